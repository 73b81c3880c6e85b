"""Run a named pipeline: resolves the log, home, store and Spark once, then streams or batches.

    >>> r = Runner("logwatch", home="/tmp/rb")                              # doctest: +SKIP
    >>> r.batch(source="lake")                                              # doctest: +SKIP
    >>> handle = r.start_stream(available_now=True); handle.wait()          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from riverbed.config import resolve_home, version_home
from riverbed.errors import InvalidArgument, RiverbedError
from riverbed.pipeline import locations
from riverbed.pipeline.batch import BatchResult, run_batch
from riverbed.pipeline.catalogue import pipeline_spec
from riverbed.pipeline.registry import get_pipeline
from riverbed.pipeline.sinks import lake_path
from riverbed.pipeline.stream import BatchProcessor, BatchStats, start_stream
from riverbed.store import open_store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import StreamingQuery

    from riverbed.log import Log
    from riverbed.pipeline.definition import Pipeline


@dataclass
class StreamHandle:
    """A running streaming pipeline: its Spark query and per-batch stats."""

    query: StreamingQuery
    processor: BatchProcessor

    @property
    def history(self) -> list[BatchStats]:
        return self.processor.history

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the query ends (availableNow) or `timeout` s pass; re-raises a query failure."""
        from riverbed.spark.errors import from_spark

        try:
            return bool(self.query.awaitTermination(timeout) if timeout else self.query.awaitTermination())
        except Exception as e:  # StreamingQueryException: surface as ours, with the cause's message
            raise from_spark(e, f"streaming query {self.query.name}") from e

    def stop(self, grace: float = 30.0) -> None:
        """Stop between micro-batches when one finishes within `grace` s (a batch cut short is
        replayed exactly on restart anyway, but stopping at a boundary keeps the logs quiet)."""
        if not self.query.isActive:
            return
        self._wait_for_sources(grace)
        # wait for a micro-batch in flight to finish; not held while stopping, or a batch that
        # started meanwhile would block on it inside Spark's callback and stop() would never return
        if self.processor.busy.acquire(timeout=grace):
            self.processor.busy.release()
        self.query.stop()

    def _wait_for_sources(self, grace: float) -> None:
        """Wait up to `grace` s until the query has run its first trigger: stopped before, Spark
        removes the socket the Python source's runner process (a child of the JVM, started when
        the query first asks the source for offsets) is about to connect to, and that process
        prints a CANNOT_OPEN_SOCKET traceback as it dies."""
        import time

        deadline = time.monotonic() + grace
        while self.query.isActive and self.query.lastProgress is None and time.monotonic() < deadline:
            time.sleep(0.2)


class Runner:
    """Everything one pipeline run needs, resolved in one place."""

    def __init__(
        self,
        pipeline: str | Pipeline,
        *,
        log: str | None = None,
        home: str | Path | None = None,
        version: str | None = None,
        master: str | None = None,
        spark: SparkSession | None = None,
        lake: str | None = None,
        checkpoints: str | None = None,
        **options: object,
    ) -> None:
        """`version` (Kappa) runs the pipeline apart: own checkpoints, lake and store under
        <home>/versions/<version>, on the same log. None or "v1" is the home itself.
        `lake`/`checkpoints`: roots (paths or Hadoop URIs) for this home, for the rest of the process
        (see riverbed.pipeline.locations); by default $RIVERBED_LAKE/$RIVERBED_CHECKPOINTS or under
        the home."""
        from riverbed.spark.datasource import absolute_log_url

        self.root = resolve_home(home)
        locations.configure(self.root, lake=lake, checkpoints=checkpoints)
        self.pipeline = (get_pipeline(pipeline, context={"model_home": self.root}, **options)
                         if isinstance(pipeline, str) else pipeline)
        self.version = version or "v1"
        self.home = version_home(self.root, version)
        self.log_url = absolute_log_url(log, str(self.root))
        self.store = open_store(home=self.root, version=self.version)
        self._spark = spark
        self._master = master

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            from riverbed.spark import get_spark

            self._spark = get_spark(self._master, app_name=f"riverbed-{self.pipeline.name}")
        return self._spark

    def batch(
        self,
        *,
        source: Literal["log", "lake"] = "log",
        time_from: int | None = None,
        time_to: int | None = None,
    ) -> BatchResult:
        """Recompute every output over the retained log or the lake."""
        from riverbed.spark.errors import from_spark

        self.store.record_pipeline(pipeline_spec(self.pipeline))  # the dashboard's catalogue
        if source == "log":
            self.check_topics()
        elif not locations.exists(lake := lake_path(self.home, self.pipeline.name),
                                self._spark if locations.is_local(lake) else self.spark):
            raise InvalidArgument(
                f"the lake has no data for {self.pipeline.name} in {lake}",
                hint=f"run the stream first (riverbed run {self.pipeline.name}), or use --source log",
            )
        try:
            return run_batch(
                self.pipeline, self.spark, log_url=self.log_url, home=self.home, store=self.store,
                source=source, time_from=time_from, time_to=time_to,
            )
        except RiverbedError:
            raise
        except Exception as e:  # Spark's wrapping of an error in our code or its own
            raise from_spark(e, f"batch {self.pipeline.name}") from e

    def check_topics(self) -> None:
        """Fail early, with riverbed's own message, when an input topic does not exist (an
        unavailable log is waited for, up to $RIVERBED_BROKER_WAIT s)."""
        from riverbed.spark.waits import with_log

        def check(log: Log) -> None:
            for t in self.pipeline.topics:
                log.describe(t)  # TopicNotFound names the topic and how to create it

        with_log(self.log_url, check, f"checking the topics of pipeline {self.pipeline.name}")

    def start_stream(
        self,
        *,
        trigger_ms: int = 1000,
        available_now: bool = False,
        max_records_per_trigger: int | None = None,
        latency_target_ms: int | None = None,
    ) -> StreamHandle:
        """Start the streaming query and return at once. `latency_target_ms` replaces the fixed
        trigger by the latency-target controller (`riverbed.pipeline.latency`)."""
        self.store.record_pipeline(pipeline_spec(self.pipeline))  # the dashboard's catalogue
        self.check_topics()
        checkpoint = locations.stream_checkpoint(self.home, self.pipeline.name)
        locations.check(self.spark, checkpoint, lake_path(self.home, self.pipeline.name))
        query, processor = start_stream(
            self.pipeline, self.spark, log_url=self.log_url, home=self.home, store=self.store,
            trigger=f"{trigger_ms} milliseconds", available_now=available_now,
            max_records_per_trigger=max_records_per_trigger, checkpoint=checkpoint,
            latency_target_ms=latency_target_ms,
        )
        return StreamHandle(query, processor)

    def stream(
        self,
        *,
        trigger_ms: int = 1000,
        available_now: bool = False,
        max_records_per_trigger: int | None = None,
        progress: Callable[[BatchStats], None] | None = None,
        latency_target_ms: int | None = None,
    ) -> StreamHandle:
        """Run the stream until it ends (availableNow), or SIGINT/SIGTERM stop it at a micro-batch
        boundary (riverbed.stopping: the signal sets a flag, never raises inside a py4j call),
        reporting each micro-batch."""
        import threading

        from riverbed import stopping

        handle = self.start_stream(
            trigger_ms=trigger_ms, available_now=available_now,
            max_records_per_trigger=max_records_per_trigger, latency_target_ms=latency_target_ms,
        )
        stop = threading.Event()
        seen = 0
        # installed after Spark started: PySpark's own SIGINT handler (cancel every job, raise) is
        # what would cut a micro-batch short and leave py4j calls half-done
        with stopping.on_signals(stop.set):
            try:
                while not stop.is_set():
                    done = handle.wait(0.5)
                    while progress and seen < len(handle.history):
                        progress(handle.history[seen])
                        seen += 1
                    if done or not handle.query.isActive:
                        break
            finally:
                handle.stop()
        while progress and seen < len(handle.history):  # the micro-batch that ended during the stop
            progress(handle.history[seen])
            seen += 1
        return handle
