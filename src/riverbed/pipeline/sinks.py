"""Where pipeline results go: the lake (Parquet by date), the serving store, a log topic, the console,
and the dead-letter topic for records that failed to parse or arrived late."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riverbed.config import resolve_broker_wait
from riverbed.store import OutputSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from riverbed.pipeline.definition import Output

_SQL_TYPES = {
    "bigint": "INTEGER", "int": "INTEGER", "smallint": "INTEGER", "tinyint": "INTEGER",
    "boolean": "INTEGER", "double": "REAL", "float": "REAL", "string": "TEXT", "binary": "BLOB",
    "timestamp": "INTEGER", "timestamp_ntz": "INTEGER", "date": "TEXT",
}


def store_spec(output: Output, df: DataFrame) -> OutputSpec:
    """The store table for `output`, typed from the transform's DataFrame schema."""
    cols, times = [], []
    for f in df.schema.fields:
        t = f.dataType.simpleString()
        sql = "REAL" if t.startswith("decimal") else _SQL_TYPES.get(t, "TEXT")
        cols.append((f.name, sql))
        if t.startswith("timestamp"):
            times.append(f.name)
    measures = dict(output.measures)
    if output.stamp:  # filled in at commit time by `stamp_rows`; the latest commit wins
        cols.append((output.stamp, "INTEGER"))
        measures[output.stamp] = "max"
    return OutputSpec(output.name, cols, list(output.keys), measures, times)


def collect_rows(df: DataFrame) -> list[tuple[Any, ...]]:
    """The DataFrame's rows as tuples, timestamps as epoch ms (never local-time datetimes), decimals
    as floats (the store's REAL: a Python Decimal cannot be bound to SQLite)."""
    from riverbed.spark.columns import reusable

    def column(f: Any) -> Any:
        from pyspark.sql import functions as F

        t = f.dataType.simpleString()
        if t.startswith("timestamp"):
            return F.unix_millis(F.col(f.name)).alias(f.name)
        if t.startswith("decimal"):
            return F.col(f.name).cast("double").alias(f.name)
        return F.col(f.name)

    def columns() -> list[Any]:
        return [column(f) for f in schema.fields]

    schema = df.schema
    table = df.select(*reusable(("riverbed.collect_rows", schema.json()), columns)).toArrow()
    return list(zip(*(c.to_pylist() for c in table.columns), strict=True)) if table.num_rows else []


def lake_path(home: Path, pipeline: str) -> str:
    """The pipeline's lake: <home>/lake/<pipeline>, or under $RIVERBED_LAKE / --lake (any Hadoop URI)."""
    from riverbed.pipeline.locations import lake_uri

    return lake_uri(home, pipeline)


def write_lake(
    df: DataFrame, home: Path, pipeline: str, event_time: str, batch_id: int | str,
    span: Callable[[], tuple[int | None, int | None]],
) -> None:
    """Write one micro-batch's parsed rows to the lake under date=YYYY-MM-DD/batch_id=N, replacing
    an earlier write of the same batch (a replay); see `riverbed.pipeline.lake`."""
    from riverbed.pipeline.lake import write_batch

    write_batch(df, str(lake_path(home, pipeline)), event_time, batch_id, span)


def read_lake(spark: Any, home: Path, pipeline: str) -> DataFrame:
    """The pipeline's master dataset: every parsed record kept in the lake."""
    return spark.read.parquet(lake_path(home, pipeline)).drop("date", "batch_id")


def write_dead_letters(df: DataFrame, log_url: str, source: str) -> None:
    """Append rows (columns topic, partition, offset, raw, error) to `<topic>.dlq`, from the executors.

    Each record keeps the original bytes as its value, with the reason, source and origin
    (topic/partition/offset) as headers, the same format the connectors use.
    """

    limit_s = resolve_broker_wait()  # here on the driver: the executors' environment may differ

    def write_partition(rows: Any) -> None:
        from riverbed.log import Record
        from riverbed.spark.waits import append_all

        by_topic: dict[str, list[Record]] = {}
        for r in rows:
            headers = (
                ("riverbed.reason", (r["error"] or "").encode()),
                ("riverbed.source", source.encode()),
                ("riverbed.origin", f"{r['topic']}/{r['partition']}/{r['offset']}".encode()),
            )
            raw = r["raw"]
            raw = raw.encode() if isinstance(raw, str) else None if raw is None else bytes(raw)
            by_topic.setdefault(f"{r['topic']}.dlq", []).append(Record(raw, headers=headers))
        append_all(log_url, by_topic, limit_s)

    df.select("topic", "partition", "offset", "raw", "error").foreachPartition(write_partition)


def write_topic(df: DataFrame, log_url: str, topic: str) -> None:
    """Append each row as a JSON record to a log topic, from the executors."""
    from pyspark.sql import functions as F

    limit_s = resolve_broker_wait()  # here on the driver: the executors' environment may differ

    def write_partition(rows: Any) -> None:
        from riverbed.log import Record
        from riverbed.spark.waits import append_all

        recs = [Record(r[0].encode()) for r in rows]
        if recs:
            append_all(log_url, {topic: recs}, limit_s)

    df.select(F.to_json(F.struct(*df.columns))).foreachPartition(write_partition)


def show_console(name: str, rows: list[tuple[Any, ...]], columns: list[str], batch_id: int | str) -> None:
    print(f"-- {name} (batch {batch_id}) --")
    for r in rows[:20]:
        print(json.dumps(dict(zip(columns, r, strict=True)), default=str))


def partial_updates(
    outputs: Mapping[str, Output], frames: Mapping[str, DataFrame]
) -> tuple[dict[str, OutputSpec], dict[str, list[tuple[Any, ...]]]]:
    """Collect each store output's partial rows from its DataFrame (several outputs' Spark jobs at
    once: on small micro-batches each job is mostly fixed cost, which overlaps)."""
    store_outs = {name: out for name, out in outputs.items() if out.sink == "store"}
    specs = {name: store_spec(out, frames[name]) for name, out in store_outs.items()}
    if len(store_outs) <= 1:
        return specs, {name: collect_rows(frames[name]) for name in store_outs}
    with ThreadPoolExecutor(min(len(store_outs), 4), thread_name_prefix="riverbed-collect") as pool:
        futures = {name: pool.submit(collect_rows, frames[name]) for name in store_outs}
        return specs, {name: f.result() for name, f in futures.items()}


def stamp_rows(outputs: Sequence[Output], rows: dict[str, list[tuple[Any, ...]]], now_ms: int) -> None:
    """Append the commit time to the rows of outputs that keep one (`Output.stamp`), in place."""
    for o in outputs:
        if o.stamp and o.name in rows:
            rows[o.name] = [(*r, now_ms) for r in rows[o.name]]
