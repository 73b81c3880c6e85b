"""The unified log's interface: records, topic metadata, and the `Log` every backend implements.

A topic has N partitions; each record in a partition gets an offset numbered from 0 in write
order. Both backends (embedded, kafka) implement `Log`; everything above the log (Spark source,
connectors, CLI) uses only this module's names.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from riverbed.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

Headers = tuple[tuple[str, bytes], ...]
Fsync = Literal["always", "none"]
FSYNC_MODES: tuple[str, ...] = ("always", "none")


def check_columns(
    values: Sequence[object], keys: Sequence[object] | None, timestamps: Sequence[int] | int | None
) -> int:
    """The row count of a column-wise append; InvalidArgument if keys/timestamps do not match it."""
    n = len(values)
    if keys is not None and len(keys) != n:
        raise InvalidArgument(f"keys has {len(keys)} items but values has {n}")
    if not (timestamps is None or isinstance(timestamps, int)) and len(timestamps) != n:
        raise InvalidArgument(f"timestamps has {len(timestamps)} items but values has {n}")
    return n


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the log's timestamp unit."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Record:
    """A record to append. `timestamp` is the event time in epoch ms (None: the append time).

    `partition` pins the record to a partition; otherwise a keyed record goes to
    murmur2(key) % partitions (Kafka's rule) and an unkeyed one to a partition the backend picks.
    """

    value: bytes | None
    key: bytes | None = None
    timestamp: int | None = None
    headers: Headers = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A record read back from the log, with where it sits."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where each appended record landed, in input order: `partitions[i]`, `offsets[i]`.

    Both are sequences (a backend may pass a `range` for a contiguous run, so nothing is
    materialised per record unless asked for).
    """

    partitions: Sequence[int]
    offsets: Sequence[int]

    def __len__(self) -> int:
        return len(self.offsets)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.partitions, self.offsets, strict=True)

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.partitions[i], self.offsets[i]

    def per_partition(self) -> dict[int, int]:
        """Records written per partition."""
        counts: dict[int, int] = {}
        for p in self.partitions:
            counts[p] = counts.get(p, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """Per-topic settings. None means "no limit" for retention."""

    partitions: int = 1
    retention_ms: int | None = None
    retention_bytes: int | None = None
    fsync: Fsync = "none"

    def __post_init__(self) -> None:
        if not isinstance(self.partitions, int) or self.partitions < 1:
            raise InvalidArgument(
                f"partitions must be a whole number >= 1, got {self.partitions!r}",
                hint="pass --partitions 1 or more",
            )
        for name in ("retention_ms", "retention_bytes"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v <= 0):
                raise InvalidArgument(f"{name} must be a positive whole number or unset, got {v!r}")
        if self.fsync not in FSYNC_MODES:
            raise InvalidArgument(f"fsync must be one of {FSYNC_MODES}, got {self.fsync!r}")


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """One partition's retained range: offsets start..end-1 are readable; `end` is the next offset."""

    partition: int
    start_offset: int
    end_offset: int
    bytes: int


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    config: TopicConfig
    partitions: list[PartitionInfo] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(p.end_offset - p.start_offset for p in self.partitions)


@dataclass(frozen=True, slots=True)
class GroupLag:
    """A consumer group's committed position in one partition, and how far behind the end it is."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end_offset: int

    @property
    def lag(self) -> int:
        return self.end_offset - (self.committed or 0)


def arrow_schema() -> pa.Schema:
    """Columns of `Log.read_arrow`, the same names and meaning as Spark's Kafka source."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("key", pa.binary()),
            pa.field("value", pa.binary()),
            pa.field("topic", pa.string(), nullable=False),
            pa.field("partition", pa.int32(), nullable=False),
            pa.field("offset", pa.int64(), nullable=False),
            pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
            pa.field(
                "headers",
                pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())])),
            ),
        ]
    )


class Log(ABC):
    """A unified log: topics of partitions of offset-numbered records. Backends implement this.

    Thread-safe for use from several threads of one process; many processes may open the same
    log at once. Use as a context manager or call `close()`.
    """

    #: A URL that opens this same log from another process (e.g. a Spark executor).
    url: str

    # -- topics ---------------------------------------------------------------------------
    @abstractmethod
    def create_topic(self, name: str, config: TopicConfig | None = None) -> TopicInfo:
        """Create a topic; raises TopicExists if it is there already."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its records and committed group offsets; TopicNotFound if absent."""

    @abstractmethod
    def topics(self) -> list[str]:
        """Names of all topics, sorted."""

    @abstractmethod
    def describe(self, name: str) -> TopicInfo:
        """Config and per-partition offsets and sizes; TopicNotFound if absent."""

    def exists(self, name: str) -> bool:
        return name in self.topics()

    def ensure_topic(self, name: str, config: TopicConfig | None = None) -> TopicInfo:
        """Create the topic unless it exists (then its existing config wins)."""
        from riverbed.errors import TopicExists

        try:
            return self.create_topic(name, config)
        except TopicExists:
            return self.describe(name)

    # -- writing --------------------------------------------------------------------------
    @abstractmethod
    def append(self, topic: str, records: Sequence[Record]) -> AppendResult:
        """Append records as one batch; returns where each landed once they are durable.

        Returns only after the records survive a crash of this process (and, with
        fsync="always", a power loss). Within a partition, records keep their input order and
        get consecutive offsets unless another producer interleaves.
        """

    def append_values(
        self,
        topic: str,
        values: Sequence[bytes | None],
        *,
        keys: Sequence[bytes | None] | None = None,
        timestamps: Sequence[int] | int | None = None,
        partition: int | None = None,
    ) -> AppendResult:
        """Column-wise append, the fast path for bulk producers. Same guarantees as `append`.

        Backends override this to avoid building a `Record` per value.
        """
        n = check_columns(values, keys, timestamps)
        if isinstance(timestamps, int) or timestamps is None:
            ts_list: Sequence[int | None] = [timestamps] * n
        else:
            ts_list = timestamps
        ks: Sequence[bytes | None] = keys if keys is not None else [None] * n
        return self.append(
            topic,
            [Record(v, k, t, (), partition) for v, k, t in zip(values, ks, ts_list, strict=True)],
        )

    # -- reading --------------------------------------------------------------------------
    @abstractmethod
    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        """(start, end): the first retained offset and the next offset to be written."""

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, max_records: int = 1000) -> list[LogRecord]:
        """Records at offsets >= `offset`, at most `max_records`; [] at the end.

        Raises OffsetOutOfRange if `offset` is before the start (removed by retention) or past
        the end.
        """

    @abstractmethod
    def read_arrow(
        self,
        topic: str,
        partition: int,
        start: int,
        end: int | None = None,
        max_records: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Records in [start, end) (end None: to the current end) as Arrow batches of `arrow_schema()`."""

    @abstractmethod
    def offset_for_timestamp(self, topic: str, partition: int, timestamp_ms: int) -> int:
        """The earliest offset whose timestamp is >= timestamp_ms, or the end offset if none."""

    # -- consumer groups ------------------------------------------------------------------
    @abstractmethod
    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        """Store `group`'s position per partition: the offset of the next record to read."""

    @abstractmethod
    def committed(self, group: str, topic: str) -> dict[int, int]:
        """`group`'s committed positions per partition ({} if none)."""

    @abstractmethod
    def groups(self) -> list[str]:
        """Names of the consumer groups that have committed offsets, sorted."""

    def group_lag(self, group: str | None = None) -> list[GroupLag]:
        """Committed offset, end offset and lag for each group (or one) and partition."""
        rows: list[GroupLag] = []
        for g in [group] if group else self.groups():
            for topic in self.group_topics(g):
                if not self.exists(topic):
                    continue
                committed = self.committed(g, topic)
                for p in range(self.describe(topic).config.partitions):
                    rows.append(GroupLag(g, topic, p, committed.get(p), self.offsets(topic, p)[1]))
        return rows

    @abstractmethod
    def group_topics(self, group: str) -> list[str]:
        """Topics in which `group` has committed offsets."""

    # -- retention and lifecycle ----------------------------------------------------------
    @abstractmethod
    def enforce_retention(self, topic: str | None = None) -> dict[str, int]:
        """Remove records past their topic's retention by age and size; records removed per topic.

        Whole stored batches are removed, oldest first, so a partition's start offset only moves
        forward.
        """

    def consumer(
        self,
        topics: str | Iterable[str],
        group: str | None = None,
        start: str = "committed",
        partitions: Iterable[int] | None = None,
    ) -> Consumer:
        """A consumer over `topics` (see `riverbed.log.consumer.Consumer`)."""
        from riverbed.log.consumer import Consumer

        return Consumer(self, topics, group=group, start=start, partitions=partitions)

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to release
        """Release files and connections."""

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:
    from riverbed.log.consumer import Consumer
