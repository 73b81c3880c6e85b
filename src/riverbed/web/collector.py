"""One object the dashboard reads everything through: the log, the serving store, a rate sampler.

A background thread samples the topics' end offsets every second (for append rates) and builds
the snapshot the live stream pushes, so any number of open pages cost one snapshot per second.
The log is used under one lock (not every backend's client is safe across threads).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from riverbed.config import resolve_home
from riverbed.log import Log, open_log
from riverbed.web import panels_view, platform_view, versions
from riverbed.web.serving import Homes, ServingStore

log_ = logging.getLogger(__name__)


def now_ms() -> int:
    """Wall-clock time in epoch ms."""
    return time.time_ns() // 1_000_000


def spark_ui_url() -> str | None:
    """The Spark UI's address: $RIVERBED_SPARK_UI when set, else the UI of a SparkContext running in
    this process (`riverbed demo` serves the dashboard beside its stream); None when neither."""
    if os.environ.get("RIVERBED_SPARK_UI"):
        return os.environ["RIVERBED_SPARK_UI"]
    context = sys.modules.get("pyspark.context")  # never import Spark here: `serve` starts no JVM
    sc = getattr(getattr(context, "SparkContext", None), "_active_spark_context", None)
    try:
        return sc.uiWebUrl if sc is not None else None
    except Exception:  # a context being stopped
        return None


class Collector:
    """Reads the platform's and the pipelines' figures for the API and the live snapshot."""

    def __init__(self, home: str | Path | None = None, log: str | None = None, interval: float = 1.0) -> None:
        self.home = resolve_home(home)
        self.log_url = log
        self.interval = interval
        self.homes = Homes(self.home)
        self._log: Log | None = None
        self._lock = threading.RLock()
        self.rates = platform_view.RateSampler()
        self.lags: dict[str, deque[list[int]]] = {}  # pipeline -> [[time_ms, lag], ...], sampled
        self._snapshot: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.last_error: str | None = None

    # -- resources ------------------------------------------------------------------------
    @property
    def log(self) -> Log:
        if self._log is None:
            self._log = open_log(self.log_url, home=self.home)
        return self._log

    @property
    def store(self) -> ServingStore:
        """The home's own serving store."""
        return self.homes.store()

    def outputs(self) -> dict[str, ServingStore]:
        """Every output name -> the store serving it (the version serving its pipeline, if switched)."""
        found = dict.fromkeys(self.store.outputs(), self.store)
        for p in self.pipeline_names():
            store = self.homes.store_for(p)
            if store is not self.store:
                found.update(dict.fromkeys(store.outputs(p), store))
        return found

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()

    # -- the figures ----------------------------------------------------------------------
    def topics(self) -> list[dict[str, Any]]:
        with self._lock:
            return platform_view.topics(self.log, self.rates.current())

    def topic(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.topics() if t["name"] == name), None)

    def pipeline_names(self) -> list[str]:
        return platform_view.pipeline_names(self.store, self.home)

    def pipeline(self, name: str) -> dict[str, Any]:
        with self._lock:
            return platform_view.pipeline_summary(self.homes.store_for(name), self.log,
                                                  self.homes.home_for(name), name, now_ms(),
                                                  self.rates.current())

    def lag_history(self, name: str) -> list[list[int]]:
        """[[time_ms, records behind], ...] for the pipeline, sampled every second while this runs."""
        return list(self.lags.get(name, ()))

    def pipelines(self) -> list[dict[str, Any]]:
        return [self.pipeline(n) for n in self.pipeline_names()]

    def lag(self, name: str) -> dict[str, Any]:
        with self._lock:
            topics = (self.spec(name) or {}).get("topics")
            return platform_view.lag(self.log, self.homes.home_for(name), name, topics)

    def metrics(self, name: str, limit: int = 120) -> list[dict[str, Any]]:
        return platform_view.metrics(self.homes.store_for(name), name, limit)

    def dead_letters(self, sample: int = 5) -> list[dict[str, Any]]:
        with self._lock:
            return platform_view.dead_letters(self.log, sample)

    def spec(self, name: str) -> dict[str, Any] | None:
        """The pipeline's catalogue entry: the serving version's, else the home's (None if never run)."""
        return self.homes.store_for(name).pipeline_spec(name) or self.store.pipeline_spec(name)

    def view(self, name: str, summary: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """The pipeline's panels with their figures (`panels_view.view`), its status from `summary`
        (the pipeline's `pipeline()`, read when not given)."""
        v = panels_view.view(self.homes.store_for(name), name, self.spec(name), now_ms(), **options)
        summary = summary or self.pipeline(name)
        return {**v, **{k: summary[k] for k in ("status", "detail", "progress")}}

    def versions(self, name: str) -> dict[str, Any]:
        """{"available": bool, "versions": [...]}, the reason they are not available, or a note
        ("no versions yet") for a pipeline riverbed.kappa does not know."""
        try:
            return {"available": True, "versions": versions.versions(name, self.home, self.log_url)}
        except versions.VersionsUnavailable as e:
            return {"available": False, "reason": str(e), "versions": []}
        except versions.NoVersions as e:
            return {"available": True, "versions": [], "note": versions.NO_VERSIONS, "reason": str(e)}

    def snapshot(self, fresh: bool = False) -> dict[str, Any]:
        """Everything the page shows (the live stream's payload); the sampled one unless `fresh`."""
        if not fresh and self._snapshot is not None:
            return self._snapshot
        pipelines = self.pipelines()
        shown = {p["name"]: self._safe(self.versions, p["name"]) for p in pipelines}
        t = now_ms()
        for p in pipelines:
            if fresh and p["lag"] and p["lag"].get("total") is not None:
                self.lags.setdefault(p["name"], deque(maxlen=3600)).append([t, p["lag"]["total"]])
        return {
            "time_ms": t,
            "spark_ui": spark_ui_url(),
            "views": {p["name"]: self._safe(self.view, p["name"], p) for p in pipelines},
            "platform": {
                "topics": self.topics(),
                "rates": self.rates.series(),
                "pipelines": pipelines,
                "lags": {p["name"]: self.lag_history(p["name"]) for p in pipelines},
                "metrics": {p["name"]: self.metrics(p["name"], 600)
                            for p in pipelines if p["status"] != "not running"},
                "versions": shown,
                "dead_letters": self.dead_letters(),
            },
        }

    @staticmethod
    def _safe(fn: Any, *args: Any) -> dict[str, Any]:
        try:
            return fn(*args)
        except Exception as e:  # one broken panel must not blank the page: show why instead
            log_.debug("dashboard: %s%s failed: %s", getattr(fn, "__name__", fn), args, e)
            return {"status": "error", "error": f"{type(e).__name__}: {e}"}

    # -- the background sampler ------------------------------------------------------------
    def sample(self) -> None:
        """Record the topics' end offsets now and rebuild the snapshot."""
        with self._lock:
            ends = {name: sum(p.end_offset for p in self.log.describe(name).partitions)
                    for name in self.log.topics()}
        self.rates.add(now_ms(), ends)
        self._snapshot = self.snapshot(fresh=True)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="riverbed-dashboard-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        while True:
            try:
                self.sample()
            except Exception as e:  # keep sampling: the log or store may come back
                self.errors += 1
                if str(e) != self.last_error:  # say it once, not every second
                    log_.warning("dashboard sampler: %s", e)
                self.last_error = str(e)
            else:
                self.last_error = None
            if self._stop.wait(self.interval):
                return
