"""The engine's ceiling for YSB: the same Spark query fed by Spark's built-in `rate` source.

Spark generates the events in the JVM (YSB's fields as a JSON string per row: ad from the same
1,000-ad table, event type, event time = the row's timestamp), then runs riverbed's ysb `parse`
and `transform` unchanged, and merges each micro-batch's counts into a dict on the driver with the
update time. No log, no lake, no dead-letter checks, no serving store: what is left is Spark's own
cost for the query, which riverbed's figures are compared with.
"""

from __future__ import annotations

import tempfile
import threading
import time
from typing import Any

from riverbed.apps.ysb.generator import AD_TYPES, EVENT_TYPES, YsbGenerator
from riverbed.apps.ysb.measure import judge
from riverbed.spark.session import task_slots


def _events(df: Any, seed: int) -> Any:
    """Rate-source rows (timestamp, value) -> the log's columns with a YSB JSON event as value."""
    from pyspark.sql import functions as F

    g = YsbGenerator(seed)
    v = F.col("value")

    def pick(items: list[str], salt: int) -> Any:
        return F.element_at(F.lit(list(items)), (F.abs(F.hash(v, F.lit(salt))) % len(items) + 1).cast("int"))

    event = F.struct(
        pick(g.user_ids, 1).alias("user_id"), pick(g.page_ids, 2).alias("page_id"),
        pick(g.ads, 3).alias("ad_id"), pick(list(AD_TYPES), 4).alias("ad_type"),
        pick(list(EVENT_TYPES), 5).alias("event_type"),
        F.unix_millis("timestamp").cast("string").alias("event_time"), F.lit("1.2.3.4").alias("ip_address"),
    )
    return df.select(
        F.to_json(event).cast("binary").alias("value"), F.lit("rate").alias("topic"),
        F.lit(0).alias("partition"), v.alias("offset"), "timestamp",
    )


class _Sink:
    """foreachBatch: the ysb query's partial counts merged into a dict, with each row's update time."""

    def __init__(self, seed: int) -> None:
        from riverbed.apps.ysb.pipeline import build, parse

        self.parse, self.transform = parse, build(seed=seed).transform
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.processed = 0
        self.lock = threading.Lock()

    def __call__(self, df: Any, batch_id: int) -> None:
        from pyspark.sql import functions as F

        from riverbed.spark.session import tune_microbatch

        tune_microbatch(df.sparkSession)  # riverbed's micro-batch settings: the same engine for both
        parsed = self.parse(df).persist()
        try:
            n = parsed.count()
            out = self.transform(parsed.where(F.col("error").isNull()))["ysb_counts"]
            got = out.select("campaign_id", F.unix_millis("window_start").alias("ws"),
                             F.unix_millis("window_end").alias("we"), "count").collect()
        finally:
            parsed.unpersist()
        now = time.time_ns() // 1_000_000
        with self.lock:
            for r in got:
                row = self.rows.setdefault((r["campaign_id"], r["ws"]), {
                    "campaign_id": r["campaign_id"], "window_start": r["ws"], "window_end": r["we"],
                    "count": 0})
                row["count"] += r["count"]
                row["updated_ms"] = now
            self.processed += n


def run_rate_source(spark: Any, rate: float, duration: float, *, seed: int = 0, trigger_ms: int = 1000,
                    drain_s: float = 30.0) -> dict[str, Any]:
    """The ceiling at a fixed input rate: Spark's `rate` source at `rate` rows/s for `duration` s."""
    sink = _Sink(seed)
    src = (spark.readStream.format("rate").option("rowsPerSecond", str(int(rate)))
           .option("numPartitions", str(task_slots(spark))).load())
    ckpt = tempfile.mkdtemp(prefix="rb-ysb-rate-")
    query = (_events(src, seed).writeStream.foreachBatch(sink).option("checkpointLocation", ckpt)
             .trigger(processingTime=f"{trigger_ms} milliseconds").start())
    samples: list[tuple[float, int, int]] = []
    t0, start_ms = time.monotonic(), time.time_ns() // 1_000_000
    try:
        while time.monotonic() - t0 < duration:
            time.sleep(0.5)
            el = time.monotonic() - t0
            samples.append((el, int(min(el, duration) * rate), sink.processed))
        stop_ms, stopped = time.time_ns() // 1_000_000, time.monotonic()
        written = int(duration * rate)  # the rate source's rows with timestamps before the stop
        backlog = max(written - sink.processed, 0)
        while sink.processed < written and time.monotonic() - stopped < drain_s:
            time.sleep(0.25)
        drained = time.monotonic() - stopped
    finally:
        query.stop()
    with sink.lock:
        rows = list(sink.rows.values())
        processed = min(sink.processed, written)  # the source keeps generating until stopped
    return {"engine": "spark-rate-source", **judge(
        rate=rate, duration=duration, samples=samples, written=written, processed=processed,
        backlog_at_stop=backlog, drained=drained, rows=rows, start_ms=start_ms, stop_ms=stop_ms)}


def run_rate_source_prefill(spark: Any, n: int, batch: int, *, seed: int = 0) -> dict[str, Any]:
    """The ceiling in events/s: `rate-micro-batch` makes `batch` rows per micro-batch, as fast as the
    query takes them; events/s = rows / the micro-batches' own time (start-up excluded)."""
    sink = _Sink(seed)
    src = (spark.readStream.format("rate-micro-batch").option("rowsPerBatch", str(batch))
           .option("numPartitions", str(task_slots(spark))).load())
    ckpt = tempfile.mkdtemp(prefix="rb-ysb-ratemb-")
    query = _events(src, seed).writeStream.foreachBatch(sink).option("checkpointLocation", ckpt).start()
    try:
        while sink.processed < n + batch:  # one extra batch: the first is a warm-up, not counted
            time.sleep(0.2)
            if not query.isActive:
                raise RuntimeError(f"the rate-source query stopped: {query.exception()}")
        progress = [p for p in query.recentProgress if p["numInputRows"]]
    finally:
        query.stop()
    timed = progress[1:]
    rows = sum(p["numInputRows"] for p in timed)
    secs = sum(p["durationMs"]["triggerExecution"] for p in timed) / 1000
    return {"engine": "spark-rate-source", "events": rows, "batch": batch, "micro_batches": len(timed),
            "seconds": round(secs, 2), "events_per_s": round(rows / secs)}
