"""Readers of the riverbed Spark source: planning splits on the driver, reading them in executors.

Executors open the log from its URL and hand Spark Arrow batches straight from it; nothing is
funnelled through the driver. The stream reader does admission control (maxRecordsPerTrigger)
and supports Trigger.AvailableNow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql.datasource import DataSourceReader, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    ReadMinRows,
    SupportsTriggerAvailableNow,
)

from riverbed.errors import DataLoss, OffsetOutOfRange, RiverbedError
from riverbed.spark import faulthook, waits
from riverbed.spark import offsets as off
from riverbed.spark.options import SCHEMA, Settings

if TYPE_CHECKING:
    import pyarrow as pa

    from riverbed.log import Log
    from riverbed.spark.admission import AdmissionFile


@dataclass(frozen=True)
class LogSplit(InputPartition):
    """One Spark task's work: records [start, end) of topic[partition] in the log at `url`."""

    url: str
    topic: str
    partition: int
    start: int
    end: int


def log_bounds(log: Log, topics: list[str]) -> off.Bounds:
    """(first retained, end) offset of every partition of `topics`; TopicNotFound if one is missing."""
    bounds: off.Bounds = {}
    for topic in topics:
        info = log.describe(topic)  # raises TopicNotFound with a hint
        found = {p.partition: (p.start_offset, p.end_offset) for p in info.partitions}
        bounds[topic] = {p: found.get(p, (0, 0)) for p in range(info.config.partitions)}
    return bounds


def plan(settings: Settings, start: off.Offsets, end: off.Offsets, bounds: off.Bounds) -> list[LogSplit]:
    """Splits covering start..end; ranges already removed by retention fail or are skipped."""
    start = {t: dict(parts) for t, parts in start.items()}
    for topic, parts in bounds.items():
        for p, (first, _) in parts.items():
            have = start.setdefault(topic, {}).setdefault(str(p), first)  # new partition: earliest
            if have < first:
                if settings.fail_on_data_loss:
                    raise DataLoss(topic, p, have, first)
                start[topic][str(p)] = first
    ranges = off.split(start, end, settings.max_per_split, settings.min_partitions, settings.min_per_split)
    return [LogSplit(settings.url, r.topic, r.partition, r.start, r.end) for r in ranges]


def read_split(split: LogSplit, settings: Settings) -> Iterator[pa.RecordBatch]:
    """Read one split from the log (in an executor) as Arrow batches in Spark's column types,
    with the values decoded from JSON when the valueSchema option is given (see jsonvalues). An
    unavailable log is waited for (riverbed.spark.waits), resuming after the last batch handed over."""
    from riverbed.log import open_log

    faulthook.fire(settings.fault_hook, "call", "read")
    struct = None
    if settings.value_schema:
        from riverbed.spark.jsonvalues import arrow_type

        struct = arrow_type(settings.value_schema)
    what = f"reading {split.topic}[{split.partition}] {split.start}..{split.end} (read)"
    wait = waits.BrokerWait(split.url, what, settings.broker_wait_s, faulthook.on_wait(settings.fault_hook))
    start = split.start
    while True:
        try:
            with open_log(split.url) as log:
                for batch in _coalesce(_read_range(log, split, start, settings.fail_on_data_loss)):
                    wait.recovered()
                    start = batch.column("offset")[-1].as_py() + 1  # resume after it on a retry
                    batch = to_spark_arrow(batch)
                    yield batch if struct is None else with_json(batch, struct)
            wait.recovered()
            return
        except RiverbedError as e:
            wait.failed(e)


#: Rows per batch handed to Spark (at least, but for a split's last): the log's batches are joined up
#: to this, since each batch costs a JSON decode call and an Arrow message to the JVM.
OUT_ROWS = 8192


def _coalesce(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Consecutive batches joined into batches of at least OUT_ROWS rows (the last may be fewer)."""
    group: list[pa.RecordBatch] = []
    rows = 0
    for b in batches:
        group.append(b)
        rows += b.num_rows
        if rows >= OUT_ROWS:
            yield _join(group)
            group, rows = [], 0
    if group:
        yield _join(group)


def _join(group: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    if len(group) == 1:
        return group[0]
    return pa.Table.from_batches(group).combine_chunks().to_batches()[0]


def _read_range(log: Log, split: LogSplit, start: int, fail_on_data_loss: bool) -> Iterator[pa.RecordBatch]:
    """The split's records from `start` as the log's Arrow batches (retention checked)."""
    first, _ = log.offsets(split.topic, split.partition)
    if start < first:
        if fail_on_data_loss:
            raise DataLoss(split.topic, split.partition, start, first)
        start = first
    if start >= split.end:
        return
    try:
        for batch in log.read_arrow(split.topic, split.partition, start, split.end):
            if batch.num_rows:
                yield batch
    except OffsetOutOfRange as e:
        if fail_on_data_loss:
            raise DataLoss(split.topic, split.partition, start, e.start) from None


def with_json(batch: pa.RecordBatch, struct: pa.StructType) -> pa.RecordBatch:
    """The batch plus `json` (the decoded values) and `json_error` columns."""
    import pyarrow as pa

    from riverbed.spark.jsonvalues import decode

    decoded, errors = decode(batch.column("value"), struct)
    return pa.RecordBatch.from_arrays(
        [*batch.columns, decoded, errors],
        schema=batch.schema.append(pa.field("json", struct)).append(pa.field("json_error", pa.string())),
    )


_SPARK_ARROW: pa.Schema | None = None


def spark_arrow_schema() -> pa.Schema:
    """SCHEMA as the Arrow schema Spark checks batches from `read()` against (timestamp[us, UTC])."""
    global _SPARK_ARROW
    if _SPARK_ARROW is None:
        from pyspark.sql.pandas.types import to_arrow_schema

        _SPARK_ARROW = to_arrow_schema(SCHEMA, timezone="UTC")
    return _SPARK_ARROW


def to_spark_arrow(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A `Log.read_arrow` batch with Spark's exact types: ms -> us timestamps, nullable fields."""
    import pyarrow as pa

    target = spark_arrow_schema()
    columns = []
    for f in target:
        col = batch.column(f.name)
        columns.append(col if col.type == f.type else col.cast(f.type))
    return pa.RecordBatch.from_arrays(columns, schema=target)


def bounds_waiting(url: str, topics: list[str], settings: Settings, what: str) -> off.Bounds:
    """`log_bounds` through a log opened for the call, an unavailable log waited for (see waits)."""
    return waits.with_log(url, lambda log: log_bounds(log, topics), what, settings.broker_wait_s,
                          faulthook.on_wait(settings.fault_hook))


class LogBatchReader(DataSourceReader):
    """`spark.read`: every partition from startingOffsets (earliest) to endingOffsets (latest)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def partitions(self) -> list[LogSplit]:
        s = self.settings
        faulthook.fire(s.fault_hook, "call", "partitions")
        bounds = bounds_waiting(s.url, s.topics, s, "planning the read (partitions)")
        start = off.resolve(s.starting, "startingOffsets", bounds, s.fail_on_data_loss)
        end = off.resolve(s.ending, "endingOffsets", bounds)
        return plan(s, start, end, bounds)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, LogSplit)
        return read_split(partition, self.settings)


class LogStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """`spark.readStream`: micro-batches over new records, admission-controlled, checkpointed offsets.

    Lives on the driver for the whole query (one Python process keeps it), so it holds the log open
    there; `read` runs in executors with only the pickled settings. Every call that asks the log
    waits out an unavailable log (opening it included) up to brokerWaitMs (riverbed.spark.waits).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._log: Log | None = None
        self._target: off.Offsets | None = None
        self._admission: AdmissionFile | None = None

    def __getstate__(self) -> dict:
        return {"settings": self.settings, "_log": None, "_target": None, "_admission": None}

    def _bounds(self, call: str, doing: str) -> off.Bounds:
        """The log's bounds for Spark's `call` (a source method), opening the log if need be; an
        unavailable log is waited for instead of failing the query."""
        s = self.settings

        def attempt() -> off.Bounds:
            if self._log is None:
                from riverbed.log import open_log

                self._log = open_log(s.url)
            return log_bounds(self._log, s.topics)

        faulthook.fire(s.fault_hook, "call", call)
        on_wait = faulthook.on_wait(s.fault_hook)
        return waits.call(attempt, s.url, f"{doing} ({call})", s.broker_wait_s, on_wait)

    def _latest(self, call: str) -> off.Offsets:
        bounds = self._bounds(call, "finding the latest offsets")
        return {t: {str(p): end for p, (_, end) in parts.items()} for t, parts in bounds.items()}

    def initialOffset(self) -> dict:
        s = self.settings
        bounds = self._bounds("initialOffset", "finding the stream's starting offsets")
        return off.resolve(s.starting, "startingOffsets", bounds, s.fail_on_data_loss)

    def getDefaultReadLimit(self) -> ReadLimit:
        n = self.settings.max_per_trigger
        return ReadMaxRows(n) if n else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        self._target = self._latest("prepareForTriggerAvailableNow")

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        cap = None
        if self.settings.admission:  # the latency-target controller's decision
            if self._admission is None:
                from riverbed.spark.admission import AdmissionFile

                self._admission = AdmissionFile(self.settings.admission)
            cap, not_before = self._admission.current()
            if not_before and time.time_ns() // 1_000_000 < not_before:
                return start  # not yet: no micro-batch now (and no log query)
        bounds = self._bounds("latestOffset", "finding the latest offsets")
        latest = off.cap({t: {str(p): e for p, (_, e) in ps.items()} for t, ps in bounds.items()},
                         self._target)
        # Partitions that appeared since `start` begin at their first retained offset.
        full = {t: {p: start.get(t, {}).get(p, bounds[t][int(p)][0]) for p in ps} for t, ps in latest.items()}
        if isinstance(limit, ReadMaxRows) or cap:
            rows = min(x for x in (cap, getattr(limit, "max_rows", None)) if x)
            latest = off.admit(full, latest, rows)
        elif isinstance(limit, ReadMinRows):
            backlog = sum(to - frm for frm, to in off.pending(full, latest).values())
            if backlog < limit.min_rows:
                return start
        return start if latest == start else latest

    def reportLatestOffset(self) -> dict:
        return self._latest("reportLatestOffset")

    def partitions(self, start: dict, end: dict) -> list[LogSplit]:
        return plan(self.settings, start, end, self._bounds("partitions", "planning the micro-batch"))

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, LogSplit)
        return read_split(partition, self.settings)

    def commit(self, end: dict) -> None:
        """Asks nothing of the log: Spark keeps the offsets in the query checkpoint."""
        faulthook.fire(self.settings.fault_hook, "call", "commit")

    def stop(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
