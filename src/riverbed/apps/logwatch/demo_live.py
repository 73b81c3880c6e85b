"""The demo's live pipeline: logwatch streaming in this process, its status, alerts and retraining."""

from __future__ import annotations

import threading
from pathlib import Path

from riverbed.errors import RiverbedError
from riverbed.timeutil import iso

LEVEL_ORDER = ("FATAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")


class LivePipeline:
    """Runs logwatch as a stream and reads its outputs back from the serving store."""

    def __init__(self, log_url: str, home: Path, trigger_ms: int, master: str | None = None) -> None:
        from riverbed.pipeline.runner import Runner

        self.runner = Runner("logwatch", log=log_url, home=home, master=master)
        self.trigger_ms = trigger_ms
        self.handle = None
        self._alerts_seen: set[tuple[int, str]] = set()
        self._training: threading.Thread | None = None
        self.trained = 0

    def start(self) -> None:
        self.handle = self.runner.start_stream(trigger_ms=self.trigger_ms)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
        if self._training is not None:
            self._training.join(timeout=30)

    def _check(self) -> None:
        q = self.handle.query if self.handle else None
        if q is not None and not q.isActive and q.exception() is not None:
            raise RiverbedError(f"the logwatch stream stopped: {str(q.exception()).splitlines()[0]}")

    def status(self) -> str:
        """Last micro-batch, the newest 10 s window's counts per level, alerts and dead letters."""
        self._check()
        store = self.runner.store
        history = self.handle.history if self.handle else []
        batch = next((s for s in reversed(history) if not s.skipped), None)
        head = f"batch {batch.batch_id}: {batch.records} rec {batch.seconds:.2f}s" if batch else "starting"
        parts = [head]
        if "level_counts" in store.outputs():
            rows = store.rows("level_counts", order_by=["-window_start"], limit=12)
            if rows:
                newest = rows[0]["window_start"]
                counts = {r["level"]: r["count"] for r in rows if r["window_start"] == newest}
                order = dict.fromkeys([*LEVEL_ORDER, *sorted(counts)])
                levels = " ".join(f"{lv} {counts[lv]}" for lv in order if lv in counts)
                parts.append(f"window {iso(newest)[11:19]} {levels}")
            state = store.state("logwatch")
            parts.append(f"alerts {len(store.rows('alerts'))}")
            parts.append(f"dlq {state.get('dead_letters_parse', 0) + state.get('dead_letters_late', 0)}")
        return " | ".join(parts)

    def new_alerts(self) -> list[str]:
        """Alerts that fired since the last call, as lines for the terminal."""
        if "alerts" not in self.runner.store.outputs():
            return []
        out = []
        for a in self.runner.store.rows("alerts"):
            key = (a["window_start"], a["component"])
            if key not in self._alerts_seen:
                self._alerts_seen.add(key)
                out.append(
                    f"ALERT {a['component']}: {a['count']} errors in {iso(a['window_start'])[11:19]}-"
                    f"{iso(a['window_end'])[11:19]} (baseline {a['baseline']:.1f})"
                )
        return out

    def train_in_background(self) -> None:
        """Relearn the baselines over the lake, without holding up the stream or the status lines."""
        if self._training is not None and self._training.is_alive():
            return

        def train() -> None:
            from riverbed.apps.logwatch.baseline import train_baseline

            train_baseline(self.runner.spark, self.runner.home, self.runner.store)
            self.trained += 1

        self._training = threading.Thread(target=train, name="demo-train", daemon=True)
        self._training.start()

    def records(self) -> int:
        """Records the stream has applied so far."""
        return self.runner.store.state("logwatch").get("records", 0)

    def summary(self) -> str:
        state = self.runner.store.state("logwatch")
        batches = len([s for s in (self.handle.history if self.handle else []) if not s.skipped])
        return (
            f"{batches} micro-batches, {state.get('records', 0):,} records, "
            f"{state.get('dead_letters_parse', 0)} unparsable and {state.get('dead_letters_late', 0)} late "
            f"-> logs.dlq, baselines learned {self.trained}x"
        )
