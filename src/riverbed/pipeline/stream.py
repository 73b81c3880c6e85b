"""Stream mode: Structured Streaming over the log, one checkpointed query per pipeline.

Each micro-batch is parsed once, then: good rows go to the lake (the master dataset); rows that
failed to parse or are behind the watermark go to the dead-letter topic with the reason; the
transform's partial results are merged into the serving store in one transaction together with
the batch id and the new watermark. Spark's checkpoint holds the log offsets; the store holds the
last applied batch id, so a batch Spark replays after a crash is recognised and not counted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riverbed.pipeline.definition import Pipeline
from riverbed.pipeline.sinks import (
    partial_updates,
    show_console,
    stamp_rows,
    write_dead_letters,
    write_lake,
    write_topic,
)
from riverbed.timeutil import iso

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

    from riverbed.pipeline.latency import LatencyController
    from riverbed.store import SqliteStore


_log = logging.getLogger("riverbed.pipeline.stream")

@dataclass
class BatchStats:
    """What one micro-batch did, kept for progress lines and the dashboard."""

    batch_id: int
    records: int = 0
    parsed: int = 0
    bad: int = 0
    late: int = 0
    watermark_ms: int | None = None
    seconds: float = 0.0
    skipped: bool = False
    outputs: dict[str, int] = field(default_factory=dict)
    latency_p50_ms: int | None = None
    latency_p99_ms: int | None = None
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent in lake, outputs, store...
    pause_ms: int | None = None  # latency target: the pause before the next micro-batch
    max_records: int | None = None  # latency target: the cap on the next micro-batch

    def metrics(self) -> dict[str, Any]:
        """The figures kept in the serving store for the dashboard."""
        return {
            "records": self.records, "bad": self.bad, "late": self.late, "seconds": round(self.seconds, 3),
            "watermark_ms": self.watermark_ms, "latency_p50_ms": self.latency_p50_ms,
            "latency_p99_ms": self.latency_p99_ms,
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
        }

    def line(self) -> str:
        """One line for the terminal."""
        if self.skipped:
            return f"batch {self.batch_id}: already applied before a restart, skipped"
        outs = " ".join(f"{k}={v}" for k, v in self.outputs.items())
        return (
            f"batch {self.batch_id}: {self.records} records ({self.bad} unparsable, {self.late} late -> dlq)"
            f" in {self.seconds:.2f}s; watermark {iso(self.watermark_ms) or '-'}; rows {outs}"
        )


class BatchProcessor:
    """The foreachBatch function of a pipeline's streaming query."""

    def __init__(self, pipeline: Pipeline, store: SqliteStore, log_url: str, home: Path) -> None:
        self.p, self.store, self.log_url, self.home = pipeline, store, log_url, home
        self.history: list[BatchStats] = []
        self._specs_ready: set[str] = set()
        self.busy = threading.Lock()  # held while a micro-batch is being applied
        self.controller: LatencyController | None = None  # set for a latency target
        self._ages_on_rows: bool | None = None  # see `_ages_where`

    def __call__(self, df: DataFrame, batch_id: int) -> None:
        from riverbed.spark.session import tune_microbatch

        with self.busy:
            # every call: PySpark hands foreachBatch a new wrapper of the query's session each time
            tune_microbatch(df.sparkSession)
            try:
                self._process(df, batch_id)
            except Exception as e:
                if self._without_failing_records(df, batch_id, e):
                    return
                if type(e).__name__ == "AnalysisException":  # a wrong column, type or function name
                    from riverbed.errors import CodeError
                    from riverbed.pipeline.quarantine import reason

                    raise CodeError(f"pipeline {self.p.name}: its parse or transform is wrong: {reason(e)}",
                                    hint="fix the code; no record was processed") from e
                raise

    def _without_failing_records(self, df: DataFrame, batch_id: int, error: Exception) -> bool:
        """After `error`: dead-letter the records the user's code fails on alone and process the
        batch again without them (riverbed.pipeline.quarantine); False when it is not about records."""
        from pyspark.sql import functions as F

        from riverbed.pipeline import quarantine

        if not quarantine.is_candidate(error):
            return False
        indexed, bad = quarantine.find_failing(df, self._dry_run)
        try:
            if not bad:
                return False
            _log.warning("pipeline %s batch %d: %d record(s) fail in the pipeline's code (%s): "
                         "dead-lettered, the batch goes on without them",
                         self.p.name, batch_id, len(bad), bad[0][1])
            quarantine.dead_letter(indexed, bad, self.log_url, f"pipeline:{self.p.name}")
            rest = indexed.where(~F.col(quarantine.ID).isin([i for i, _ in bad])).drop(quarantine.ID)
            self._process(rest, batch_id, attempt=1, quarantined=len(bad))
            return True
        finally:
            indexed.unpersist()

    def _dry_run(self, df: DataFrame) -> None:
        """Parse and transform `df` with every column computed and nothing written anywhere."""
        from pyspark.sql import functions as F

        parsed = self.p.parse(df)
        parsed.write.format("noop").mode("overwrite").save()
        good = parsed.where(F.col("error").isNull()).drop("error", "raw")
        for frame in self.p.transform(good).values():
            frame.write.format("noop").mode("overwrite").save()

    def _outputs(self, on_time: DataFrame, batch_id: int) -> dict[str, list[tuple[Any, ...]]]:
        """Run the hook and the transform on the batch's on-time rows; write the topic and console
        outputs; return the store outputs' partial rows for the merge."""
        if self.p.foreach_batch:
            self.p.foreach_batch(on_time, batch_id)
        frames = self.p.transform(on_time)
        specs, rows = partial_updates({o.name: o for o in self.p.outputs}, frames)
        for name, spec in specs.items():
            if name not in self._specs_ready:
                self.store.ensure_output(self.p.name, spec)
                self._specs_ready.add(name)
        for o in self.p.outputs:
            if o.sink == "topic":
                write_topic(frames[o.name], self.log_url, o.topic or "")
            elif o.sink == "console":
                df_o = frames[o.name]
                show_console(o.name, [tuple(r) for r in df_o.take(20)], df_o.columns, batch_id)
        return rows

    def _write_lake(self, flagged: DataFrame, batch_id: int, obs: Any | None = None,
                    extra: Sequence[Any] = ()) -> None:
        """Write the batch's parsed rows (late ones too: the batch layer counts them) to the lake.

        With `obs`, the batch's figures are observed by this same job (no job of their own): counts
        and the event-time span, and the `extra` aggregates.
        """
        from pyspark.sql import functions as F

        if obs is None and not self.p.keep_lake:
            return  # a replay, and no lake to rewrite
        x = self._exprs()
        if obs is not None:
            flagged = flagged.observe(obs, *x["figures"], *extra)
            span = lambda: (obs.get.get("min_t"), obs.get.get("max_t"))  # noqa: E731
        else:  # a replay: the figures were counted when the batch was first applied
            row = flagged.where(x["ok"]).agg(
                F.min(x["et_ms"]).alias("lo"), F.max(x["et_ms"]).alias("hi")).collect()[0]
            span = lambda: (row["lo"], row["hi"])  # noqa: E731
        if not self.p.keep_lake:  # a speed-layer-only pipeline: count (and cache) in one job, no files
            flagged.write.format("noop").mode("overwrite").save()
            return
        good = flagged.where(x["ok"]).drop("error", "raw", "reason")
        write_lake(good, self.home, self.p.name, self.p.event_time, batch_id, span=span)

    def _exprs(self) -> dict[str, Any]:
        """The micro-batch's constant expressions, built once per JVM (`riverbed.spark.columns`)."""
        from riverbed.spark.columns import reusable

        return reusable(("riverbed.stream", self.p.event_time), lambda: _stream_exprs(self.p.event_time))

    def _flag(self, df: DataFrame, watermark: int | None) -> DataFrame:
        """Parse the batch and add `reason`: the parse error, or why the record is late, or null."""
        from pyspark.sql import functions as F

        from riverbed.spark.columns import batch_constant

        x = self._exprs()
        if watermark is None:
            return self.p.parse(df).withColumn("reason", x["error"])
        late = F.concat(x["late_prefix"], x["et_text"], F.lit(f" is behind the watermark {iso(watermark)}"))
        # not F.lit(watermark): a new long literal per micro-batch is a new class to compile each time
        return self.p.parse(df).withColumn(
            "reason", F.when(x["bad"], x["error"]).when(x["et_key"] < batch_constant(watermark), late))

    def _ages_where(self, df: DataFrame) -> str | None:
        """Where the records' log ages are observed: "rows" when the parse keeps the log's
        `timestamp` (as logwatch, bitcoin, buzz and ysb do), with the batch's other figures on the
        cached rows; "source" otherwise, on the log's rows: an observation there makes Spark copy
        every column of every row (~5% of a YSB micro-batch's CPU); None when there is no timestamp."""
        if "timestamp" not in df.columns:
            return None
        if self._ages_on_rows is None:  # the parse's columns are the same for every micro-batch
            self._ages_on_rows = dict(self.p.parse(df).dtypes).get("timestamp") == "timestamp"
        return "rows" if self._ages_on_rows else "source"

    def _process(self, df: DataFrame, batch_id: int, attempt: int = 0, quarantined: int = 0) -> None:
        """Apply one micro-batch; `attempt` > 0 is a retry without `quarantined` failing records."""
        from pyspark.sql import Observation

        started = time.monotonic()
        stats = BatchStats(batch_id)
        last = self.store.last_batch(self.p.name)
        state = self.store.state(self.p.name)
        max_seen: int | None = state.get("max_event_time_ms")
        watermark = None if max_seen is None else max_seen - self.p.lateness_ms
        # how old the records are in the log when their effect lands: p50/p99 of the append
        # timestamps (a record's timestamp is its append time unless the producer set one), observed
        # by the first job, on the parsed rows if they keep the column, else on the source rows
        tag = f"{self.p.name}-{batch_id}" + (f"-retry{attempt}" if attempt else "")
        ages = Observation(f"riverbed-{tag}-ages")
        ages_at = self._ages_where(df)
        if ages_at == "source":
            df = df.observe(ages, self._exprs()["ages"])
        # `raw` is kept for the dead letters only: the cache of the batch holds it for those rows
        flagged = self._flag(df, watermark).withColumn("raw", self._exprs()["raw_if_flagged"]).persist()
        try:
            if last is not None and batch_id <= last:
                # a replay of a batch merged into the store before a crash: the store has it; its
                # lake files are written again (idempotent), in case the first write was cut short
                stats.skipped = True
                self._write_lake(flagged, batch_id)
                self.history.append(stats)
                return
            # the lake write counts the batch too (no job of its own); then the outputs' jobs read the
            # cached rows (side by side with the lake write was slower on 2 cores for big batches)
            obs = Observation(f"riverbed-{tag}")
            t = time.monotonic()
            self._write_lake(flagged, batch_id, obs, [self._exprs()["ages"]] if ages_at == "rows" else [])
            stats.phases["lake"] = time.monotonic() - t
            t = time.monotonic()
            on_time = flagged.where(self._exprs()["on_time"]).drop("error", "raw", "reason")
            rows = self._outputs(on_time, batch_id)
            stats.phases["outputs"] = time.monotonic() - t
            row = obs.get
            bad_here = row["bad"] or 0
            stats.records, stats.bad = row["n"] + quarantined, bad_here + quarantined
            stats.late = (row["flagged"] or 0) - bad_here
            stats.parsed = stats.records - stats.bad
            if stats.bad or stats.late:
                t = time.monotonic()
                bad_rows = flagged.where(self._exprs()["flagged"]).drop("error")
                write_dead_letters(bad_rows.withColumnRenamed("reason", "error"), self.log_url,
                                   f"pipeline:{self.p.name}")
                stats.phases["dead_letters"] = time.monotonic() - t
            new_max = max((x for x in (max_seen, row["max_t"]) if x is not None), default=None)
            counters = {
                "records": state.get("records", 0) + stats.records,
                "dead_letters_parse": state.get("dead_letters_parse", 0) + stats.bad,
                "dead_letters_late": state.get("dead_letters_late", 0) + stats.late,
            }
            new_state: dict[str, Any] = {"max_event_time_ms": new_max, **counters}
            stats.outputs = {k: len(v) for k, v in rows.items()}
            stats.watermark_ms = None if new_max is None else new_max - self.p.lateness_ms
            now = time.time_ns() // 1_000_000
            stamp_rows(self.p.outputs, rows, now)
            ts_q = None if ages_at is None else (row if ages_at == "rows" else ages.get).get("ts_q")
            if ts_q:
                stats.latency_p50_ms, stats.latency_p99_ms = (now - q for q in ts_q)
            stats.seconds = time.monotonic() - started
            t = time.monotonic()
            self.store.apply_batch(
                self.p.name, batch_id, rows, state=new_state, derived=self.p.derived_sql,
                metrics=stats.metrics(),
            )
            stats.phases["store"] = time.monotonic() - t
        finally:
            flagged.unpersist()
        stats.seconds = time.monotonic() - started
        if self.controller is not None:
            d = self.controller.after_batch(stats.records, stats.seconds, stats.latency_p99_ms, started)
            stats.pause_ms, stats.max_records = d.pause_ms, d.max_records
        self.history.append(stats)


def _stream_exprs(event_time: str) -> dict[str, Any]:
    """Expressions every micro-batch of a pipeline with this event-time column uses."""
    from pyspark.sql import functions as F

    from riverbed.spark.columns import BATCH_CONSTANT_TYPE

    et = F.col(event_time)
    et_ms, error = F.unix_millis(et), F.col("error")
    ok, bad, flagged = error.isNull(), error.isNotNull(), F.col("reason").isNotNull()
    good_t = F.when(ok, et_ms)
    return {
        "et_ms": et_ms, "et_key": et_ms.cast(BATCH_CONSTANT_TYPE),
        "error": error, "ok": ok, "bad": bad, "flagged": flagged, "on_time": ~flagged,
        "raw_if_flagged": F.when(flagged, F.col("raw")),
        "late_prefix": F.lit("late: event time "),
        "et_text": F.date_format(et, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
        "figures": [  # observed on the batch's first job: counts and the event-time span
            F.count(F.lit(1)).alias("n"),
            F.sum(F.when(bad, 1).otherwise(0)).alias("bad"),
            F.sum(F.when(flagged, 1).otherwise(0)).alias("flagged"),
            F.min(good_t).alias("min_t"), F.max(good_t).alias("max_t"),
        ],
        # how old the records are in the log when their effect lands: p50 and p1 of append times
        "ages": F.percentile_approx(
            F.unix_millis("timestamp"), F.array(F.lit(0.5), F.lit(0.01)), 1000).alias("ts_q"),
    }


def start_stream(
    pipeline: Pipeline,
    spark: SparkSession,
    *,
    log_url: str,
    home: Path,
    store: SqliteStore,
    trigger: str | None = "1 second",
    available_now: bool = False,
    max_records_per_trigger: int | None = None,
    starting_offsets: str = "earliest",
    checkpoint: str | None = None,
    latency_target_ms: int | None = None,
) -> tuple[StreamingQuery, BatchProcessor]:
    """Start the pipeline's streaming query; returns it and its batch processor (for stats).

    With `latency_target_ms` the query runs back to back and a `LatencyController` decides after
    each micro-batch when the next starts and how many records it takes."""
    from riverbed.spark.session import task_slots
    from riverbed.spark.waits import with_log

    if pipeline.setup_store:
        pipeline.setup_store(store)
    # dead letters are appended from the executors: topics first (an unavailable log is waited for)
    with_log(log_url, lambda lg: [lg.ensure_topic(t) for t in pipeline.dlq_topics],
             f"creating the dead-letter topics of pipeline {pipeline.name}")
    reader = (
        spark.readStream.format("riverbed")
        .option("topic", ",".join(pipeline.topics))
        .option("log", log_url)
        .option("startingOffsets", starting_offsets)
        # a big micro-batch from few log partitions is read by every core, not one task per partition
        # (one task per core: a second wave of tasks cost 17%, YSB 110k -> 129k events/s with one)
        .option("minPartitions", str(task_slots(spark)))
        .option("minRecordsPerPartition", "4096")
        .options(**pipeline.source_options(spark))
    )
    if max_records_per_trigger:
        reader = reader.option("maxRecordsPerTrigger", str(max_records_per_trigger))
    processor = BatchProcessor(pipeline, store, log_url, home)
    if latency_target_ms is not None:
        from riverbed.pipeline.latency import LatencyController

        control = home / "control" / f"{pipeline.name}.admission.json"
        processor.controller = LatencyController(latency_target_ms, control)
        reader = reader.option("admissionControl", str(control))
        trigger, available_now = "0 seconds", False
    writer = (
        reader.load()
        .writeStream.queryName(f"riverbed-{pipeline.name}")
        .foreachBatch(processor)
        .option("checkpointLocation", checkpoint or str(home / "checkpoints" / pipeline.name / "stream"))
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=trigger or "0 seconds")
    return writer.start(), processor
