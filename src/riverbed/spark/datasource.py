"""The unified log as a Spark data source ("riverbed"), for `spark.read` and `spark.readStream`.

    >>> df = (spark.readStream.format("riverbed").option("topic", "logs")       # doctest: +SKIP
    ...       .option("startingOffsets", "earliest").option("maxRecordsPerTrigger", 100_000).load())

Columns are those of Spark's Kafka source (`SCHEMA`). Options: `topic` (one or a comma list),
`log` (URL; default resolved on the driver), `home`, `startingOffsets` / `endingOffsets`
("earliest", "latest" or Kafka-style JSON), `maxRecordsPerTrigger`, `failOnDataLoss`,
`minPartitions`, `maxRecordsPerPartition`. Executors open the log from its URL and read Arrow
batches straight from it; nothing is funnelled through the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
)
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    ReadMinRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from riverbed.config import resolve_home, resolve_log_url
from riverbed.errors import InvalidArgument, OffsetOutOfRange
from riverbed.spark import offsets as off

if TYPE_CHECKING:
    import pyarrow as pa

    from riverbed.log import Log

#: The columns of Spark's Kafka source (with headers): key, value, topic, partition, offset, ...
SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField(
            "headers",
            ArrayType(StructType([StructField("key", StringType()), StructField("value", BinaryType())])),
        ),
    ]
)

DEFAULT_MAX_PER_SPLIT = 500_000


def absolute_log_url(url: str | None = None, home: str | None = None) -> str:
    """The log URL with "embedded" made absolute, so every process opens the same directory."""
    resolved = resolve_log_url(url)
    if resolved in ("embedded", "embedded://"):
        return f"embedded://{resolve_home(home) / 'log'}"
    return resolved


@dataclass(frozen=True)
class LogSplit(InputPartition):
    """One Spark task's work: records [start, end) of topic[partition] in the log at `url`."""

    url: str
    topic: str
    partition: int
    start: int
    end: int


@dataclass(frozen=True)
class Settings:
    """The source's options, parsed once on the driver and shipped (pickled) to every reader."""

    url: str
    topics: list[str]
    starting: str | dict
    ending: str | dict
    max_per_trigger: int | None
    fail_on_data_loss: bool
    min_partitions: int
    max_per_split: int

    @classmethod
    def parse(cls, options: dict[str, str], default_log: str | None, stream: bool) -> Settings:
        """Parse and check the user's options; raises InvalidArgument naming the bad one."""
        o = {k.lower(): v for k, v in options.items()}
        topics = off.parse_topics(o.get("topic") or o.get("subscribe"))
        url = absolute_log_url(o.get("log") or (None if o.get("home") else default_log), o.get("home"))
        starting = off.parse_spec(o.get("startingoffsets"), "startingOffsets", topics,
                                  "latest" if stream else "earliest")
        ending = off.parse_spec(o.get("endingoffsets"), "endingOffsets", topics, "latest")
        if stream and "endingoffsets" in o:
            raise InvalidArgument("endingOffsets applies to spark.read only",
                                  hint="a stream runs until stopped; use trigger(availableNow=True)")
        return cls(
            url=url,
            topics=topics,
            starting=starting,
            ending=ending,
            max_per_trigger=_positive(o, "maxrecordspertrigger", None),
            fail_on_data_loss=_flag(o, "failondataloss", True),
            min_partitions=_positive(o, "minpartitions", 1) or 1,
            max_per_split=_positive(o, "maxrecordsperpartition", DEFAULT_MAX_PER_SPLIT)
            or DEFAULT_MAX_PER_SPLIT,
        )


def _positive(o: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in o:
        return default
    try:
        value = int(o[name])
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidArgument(f"option {name} must be a whole number >= 1, got {o[name]!r}")
    return value


def _flag(o: dict[str, str], name: str, default: bool) -> bool:
    raw = o.get(name, str(default)).strip().lower()
    if raw not in ("true", "false"):
        raise InvalidArgument(f"option {name} must be true or false, got {o[name]!r}")
    return raw == "true"


class RiverbedDataSource(DataSource):
    """The unified log as a Spark source; `default_log` is set when the class is registered."""

    default_log: str | None = None

    @classmethod
    def name(cls) -> str:
        return "riverbed"

    def schema(self) -> StructType:
        """Kafka's columns; also checks the options and topics so mistakes fail at `load()`."""
        from riverbed.log import open_log

        settings = Settings.parse(dict(self.options), self.default_log, stream=False)
        with open_log(settings.url) as log:
            log_bounds(log, settings.topics)
        return SCHEMA

    def reader(self, schema: StructType) -> DataSourceReader:
        return LogBatchReader(Settings.parse(dict(self.options), self.default_log, stream=False))

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        return LogStreamReader(Settings.parse(dict(self.options), self.default_log, stream=True))


def source_class(log: str | None = None, home: str | None = None) -> type[RiverbedDataSource]:
    """A RiverbedDataSource subclass whose default log is resolved now, here on the driver."""
    url = absolute_log_url(log, home)
    # Defined in a function, the class is pickled by value with its `default_log` when registered.
    return type("RiverbedDataSource", (RiverbedDataSource,), {"default_log": url})


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
                    raise off.DataLoss(topic, p, have, first)
                start[topic][str(p)] = first
    ranges = off.split(start, end, settings.max_per_split, settings.min_partitions)
    return [LogSplit(settings.url, r.topic, r.partition, r.start, r.end) for r in ranges]


def read_split(split: LogSplit, fail_on_data_loss: bool) -> Iterator[pa.RecordBatch]:
    """Read one split from the log (in an executor) as Arrow batches in Spark's column types."""
    from riverbed.log import open_log

    with open_log(split.url) as log:
        start = split.start
        first, _ = log.offsets(split.topic, split.partition)
        if start < first:
            if fail_on_data_loss:
                raise off.DataLoss(split.topic, split.partition, start, first)
            start = first
        if start >= split.end:
            return
        try:
            for batch in log.read_arrow(split.topic, split.partition, start, split.end):
                if batch.num_rows:
                    yield to_spark_arrow(batch)
        except OffsetOutOfRange as e:
            if fail_on_data_loss:
                raise off.DataLoss(split.topic, split.partition, start, e.start) from None


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


class LogBatchReader(DataSourceReader):
    """`spark.read`: every partition from startingOffsets (earliest) to endingOffsets (latest)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def partitions(self) -> list[LogSplit]:
        from riverbed.log import open_log

        s = self.settings
        with open_log(s.url) as log:
            bounds = log_bounds(log, s.topics)
        start = off.resolve(s.starting, "startingOffsets", bounds, s.fail_on_data_loss)
        end = off.resolve(s.ending, "endingOffsets", bounds)
        return plan(s, start, end, bounds)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, LogSplit)
        return read_split(partition, self.settings.fail_on_data_loss)


class LogStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """`spark.readStream`: micro-batches over new records, admission-controlled, checkpointed offsets.

    Lives on the driver for the whole query (one Python process keeps it), so it holds the log open
    there; `read` runs in executors with only the pickled settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._log: Log | None = None
        self._target: off.Offsets | None = None

    def __getstate__(self) -> dict:
        return {"settings": self.settings, "_log": None, "_target": None}

    def _bounds(self) -> off.Bounds:
        if self._log is None:
            from riverbed.log import open_log

            self._log = open_log(self.settings.url)
        return log_bounds(self._log, self.settings.topics)

    def _latest(self) -> off.Offsets:
        return {t: {str(p): end for p, (_, end) in parts.items()} for t, parts in self._bounds().items()}

    def initialOffset(self) -> dict:
        s = self.settings
        return off.resolve(s.starting, "startingOffsets", self._bounds(), s.fail_on_data_loss)

    def getDefaultReadLimit(self) -> ReadLimit:
        n = self.settings.max_per_trigger
        return ReadMaxRows(n) if n else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        self._target = self._latest()

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        bounds = self._bounds()
        latest = off.cap({t: {str(p): e for p, (_, e) in ps.items()} for t, ps in bounds.items()},
                         self._target)
        # Partitions that appeared since `start` begin at their first retained offset.
        full = {t: {p: start.get(t, {}).get(p, bounds[t][int(p)][0]) for p in ps} for t, ps in latest.items()}
        if isinstance(limit, ReadMaxRows):
            latest = off.admit(full, latest, limit.max_rows)
        elif isinstance(limit, ReadMinRows):
            backlog = sum(to - frm for frm, to in off.pending(full, latest).values())
            if backlog < limit.min_rows:
                return start
        return start if latest == start else latest

    def reportLatestOffset(self) -> dict:
        return self._latest()

    def partitions(self, start: dict, end: dict) -> list[LogSplit]:
        return plan(self.settings, start, end, self._bounds())

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, LogSplit)
        return read_split(partition, self.settings.fail_on_data_loss)

    def commit(self, end: dict) -> None:
        """Nothing to do: Spark keeps the offsets in the query checkpoint."""

    def stop(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


__all__ = ["SCHEMA", "LogBatchReader", "LogSplit", "LogStreamReader", "RiverbedDataSource", "source_class"]
