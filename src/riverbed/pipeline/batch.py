"""Batch mode: the same parse and transform over data at rest — the retained log or the lake.

The transform runs once over everything selected and its results replace the outputs in the
serving store (a full recompute). Over the log, records that fail to parse are counted (the stream
already dead-lettered them); over the lake, rows are already parsed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from riverbed.pipeline.definition import Pipeline
from riverbed.pipeline.sinks import partial_updates, read_lake, show_console, stamp_rows, write_topic

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from riverbed.store import SqliteStore


@dataclass
class BatchResult:
    records: int = 0
    bad: int = 0
    outputs: dict[str, int] = field(default_factory=dict)


def load_parsed(
    pipeline: Pipeline,
    spark: SparkSession,
    *,
    source: Literal["log", "lake"],
    log_url: str,
    home: Path,
    time_from: int | None = None,
    time_to: int | None = None,
) -> tuple[DataFrame, DataFrame | None]:
    """(good parsed rows, rows that failed to parse or None) from the log or the lake, time-filtered."""
    from pyspark.sql import functions as F

    if source == "lake":
        good, bad = read_lake(spark, home, pipeline.name), None
    else:
        raw = (
            spark.read.format("riverbed")
            .option("topic", ",".join(pipeline.topics))
            .option("log", log_url)
            .options(**pipeline.source_options(spark))
            .load()
        )
        parsed = pipeline.parse(raw)
        good = parsed.where(F.col("error").isNull()).drop("error", "raw")
        bad = parsed.where(F.col("error").isNotNull())
    et = F.unix_millis(F.col(pipeline.event_time))
    if time_from is not None:
        good = good.where(et >= F.lit(time_from))
    if time_to is not None:
        good = good.where(et < F.lit(time_to))
    return good, bad


def run_batch(
    pipeline: Pipeline,
    spark: SparkSession,
    *,
    log_url: str,
    home: Path,
    store: SqliteStore,
    source: Literal["log", "lake"] = "log",
    time_from: int | None = None,
    time_to: int | None = None,
) -> BatchResult:
    """Recompute every output of `pipeline` over data at rest and replace them in the store."""
    if pipeline.setup_store:
        pipeline.setup_store(store)
    good, bad = load_parsed(
        pipeline, spark, source=source, log_url=log_url, home=home, time_from=time_from, time_to=time_to
    )
    good = good.persist()
    try:
        result = BatchResult(records=good.count(), bad=bad.count() if bad is not None else 0)
        frames = pipeline.transform(good)
        outputs = {o.name: o for o in pipeline.outputs}
        specs, rows = partial_updates(outputs, frames)
        stamp_rows(pipeline.outputs, rows, time.time_ns() // 1_000_000)
        for spec in specs.values():
            store.ensure_output(pipeline.name, spec, recreate=True)
        store.replace(rows, derived=pipeline.derived_sql)
        for o in pipeline.outputs:
            if o.sink == "topic":
                write_topic(frames[o.name], log_url, o.topic or "")
            elif o.sink == "console":
                df = frames[o.name]
                show_console(o.name, [tuple(r) for r in df.take(20)], df.columns, "batch")
        result.outputs = {k: len(v) for k, v in rows.items()}
        return result
    finally:
        good.unpersist()
