"""The Kafka backend: the unified log over any Kafka-protocol cluster, through confluent-kafka.

    >>> log = KafkaLog("127.0.0.1:9092")          # or open_log("kafka://127.0.0.1:9092")  # doctest: +SKIP

Writes use an idempotent producer with acks=all; every append waits for the delivery report of
each record and raises if any record was not written. Keys are placed with Kafka's murmur2 rule
(computed here, and librdkafka's `murmur2_random` agrees); unkeyed records of one append share a
partition, rotating between appends. Reads use consumers assigned (not subscribed) to a partition,
kept between calls. Consumer groups commit through a consumer with that group.id and no members.

Where brokers differ (checked against Tansu 0.6, the tests' broker):
- End offsets: Tansu reports the high watermark as "last batch's base offset + 1"; the true end
  is found by fetching the last batch (see `_kafka_reader`), which is also right on Kafka.
- Offset by time: Tansu answers ListOffsets(timestamp) with 0; the broker's answer is used as a
  lower bound and the partition is scanned forward from it to the first record at/after the time.
- Retention: brokers enforce retention.ms/bytes themselves in production. `enforce_retention`
  also applies it on demand with DeleteRecords; Tansu's in-memory engine lacks DeleteRecords
  (it panics), so there riverbed records each partition's new start offset in the topic config
  `riverbed.start.offsets` and hides records before it (they stay in broker memory).
  `retention_mode="auto"` picks this for a cluster id starting with "tansu".
- Sizes: `PartitionInfo.bytes` is approximate: records x average size (key + value + headers
  + 20 bytes) of the last batch; retention by size counts the same measure.
- Tansu creates a topic on first produce; appends check the topic exists first.
Options: librdkafka settings (dotted names) pass through; riverbed's own are `timeout` (s),
`connect_timeout` (s), `read_consumers`, `retention_mode` (auto|delete_records|offsets),
`replication_factor`, `start_cache_ttl` (s); `acks` may be given only as "all" (what riverbed
always uses). All may come from the URL's query (`open_log`); `url` carries the options given, so
`open_log(log.url)` in another process (a Spark executor) opens the log the same way. Messages and
`repr` show the URL with secrets masked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from riverbed.errors import ConfigError, InvalidArgument, LogError, OffsetOutOfRange, TopicNotFound
from riverbed.log import _kafka_util as util
from riverbed.log._kafka_reader import Reader
from riverbed.log._kafka_write import Writer
from riverbed.log.api import (
    AppendResult,
    Log,
    LogRecord,
    PartitionInfo,
    Record,
    TopicConfig,
    TopicInfo,
    now_ms,
)

if TYPE_CHECKING:
    import pyarrow as pa

_log = logging.getLogger("riverbed.log.kafka")
INTERNAL_PREFIX = "__"
OWN_OPTIONS = {
    "timeout": 10.0,
    "connect_timeout": 3.0,
    "read_consumers": 8,
    "retention_mode": "auto",
    "replication_factor": 1,
    "start_cache_ttl": 1.0,
}
#: librdkafka settings without a dot that riverbed accepts (and checks) besides the dotted ones.
PLAIN_RDKAFKA_OPTIONS = ("acks",)


class KafkaLog(Log):
    """`Log` over a Kafka-protocol cluster at `bootstrap_servers` ('host:port[,host:port]')."""

    def __init__(self, bootstrap_servers: str, **options: Any) -> None:
        from riverbed.log import mask_url

        given = {k: str(v).lower() if isinstance(v, bool) else v
                 for k, v in options.items() if isinstance(v, str | int | float)}  # not callbacks
        self.url = f"kafka://{bootstrap_servers}" + (f"?{urlencode(given)}" if given else "")
        self._where = f"kafka://{bootstrap_servers}"  # what messages name: never the options
        self._shown = mask_url(self.url)
        acks = str(options.pop("acks", "all")).lower()
        if acks not in ("all", "-1"):
            raise InvalidArgument(
                f"acks={acks!r}: riverbed always writes with acks=all (an idempotent producer)",
                hint="drop the acks option, or set acks=all",
            )
        own = {k: options.pop(k, v) for k, v in OWN_OPTIONS.items()}
        bad = [k for k in options if "." not in k]
        if bad:
            raise InvalidArgument(
                f"unknown Kafka log options {bad}",
                hint=f"riverbed options: {sorted(OWN_OPTIONS)}, acks=all, and dotted librdkafka settings",
            )
        if own["retention_mode"] not in ("auto", "delete_records", "offsets"):
            raise InvalidArgument(
                f"retention_mode must be auto, delete_records or offsets, got {own['retention_mode']!r}"
            )
        self.timeout = float(own["timeout"])
        self._own = own
        self._base = {
            "bootstrap.servers": bootstrap_servers,
            "socket.connection.setup.timeout.ms": int(own["connect_timeout"] * 1000),
            "client.id": "riverbed",
            "logger": _log,
            **options,
        }
        try:
            self._admin = AdminClient(dict(self._base))
        except KafkaException as e:  # a setting librdkafka does not know, or a bad value
            raise ConfigError(
                f"Kafka settings rejected for {self._where}: {e.args[0].str() if e.args else e}",
                hint="see https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md",
            ) from None
        try:
            md = self._admin.list_topics(timeout=own["connect_timeout"])
        except KafkaException as e:
            raise util.unavailable(self._where, e.args[0].str() if e.args else e) from None
        if own["retention_mode"] == "auto":
            own["retention_mode"] = "offsets" if str(md.cluster_id).startswith("tansu") else "delete_records"
        self._reader = Reader(self._where, self._base, size=int(own["read_consumers"]), timeout=self.timeout)
        self._writer = Writer(self._where, self._base, self.timeout)
        self._parts: dict[str, tuple[float, int]] = {}
        self._starts: dict[str, tuple[float, dict[int, int]]] = {}
        self._groups: dict[str, Consumer] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"KafkaLog({self._shown!r})"

    # -- metadata -------------------------------------------------------------------------
    def _call(self, futures: dict, topic: str | None = None) -> list[Any]:
        out = []
        for f in futures.values():
            try:
                out.append(f.result(timeout=self.timeout))
            except KafkaException as e:
                raise util.translate(e, self._where, topic) from None
            except TimeoutError:
                raise util.unavailable(self._where, f"no answer within {self.timeout}s") from None
        return out

    def _metadata(self, topic: str | None = None) -> Any:
        try:
            return self._admin.list_topics(topic, timeout=self.timeout)
        except KafkaException as e:
            raise util.translate(e, self._where, topic) from None

    def partitions(self, topic: str, *, refresh: bool = False) -> int:
        """How many partitions `topic` has (cached a few seconds); TopicNotFound if absent."""
        now = time.monotonic()
        hit = self._parts.get(topic)
        if hit and not refresh and now - hit[0] < 5.0:
            return hit[1]
        tm = self._metadata().topics.get(topic)  # not list_topics(topic): brokers may auto-create it
        if tm is None or tm.error is not None or topic.startswith(INTERNAL_PREFIX):
            self._parts.pop(topic, None)
            raise TopicNotFound(topic)
        self._parts[topic] = (now, len(tm.partitions))
        return len(tm.partitions)

    def _check_partition(self, topic: str, partition: int) -> None:
        n = self.partitions(topic)
        if not isinstance(partition, int) or not 0 <= partition < n:
            raise InvalidArgument(
                f"partition {partition!r} out of range for topic '{topic}' ({n} partitions)"
            )

    def _configs(self, topic: str) -> dict[str, Any]:
        (entries,) = self._call(self._admin.describe_configs([ConfigResource("TOPIC", topic)]), topic)
        return entries

    def _start_offsets(self, topic: str, *, refresh: bool = False) -> dict[int, int]:
        """Start offsets riverbed recorded for `topic` (retention_mode=offsets), cached briefly."""
        if self._own["retention_mode"] != "offsets":
            return {}
        hit = self._starts.get(topic)
        if hit and not refresh and time.monotonic() - hit[0] < self._own["start_cache_ttl"]:
            return hit[1]
        starts = util.parse_starts(self._configs(topic))
        self._starts[topic] = (time.monotonic(), starts)
        return starts

    def _range(self, topic: str, partition: int) -> tuple[int, int, int]:
        """(start, end, average record bytes) of a partition."""
        self._check_partition(topic, partition)
        low, end, avg = self._reader.watermarks(topic, partition)
        start = min(max(low, self._start_offsets(topic).get(partition, 0)), end)
        return start, end, avg

    # -- topics ---------------------------------------------------------------------------
    def create_topic(self, name: str, config: TopicConfig | None = None) -> TopicInfo:
        util.check_topic_name(name)
        if name.startswith(INTERNAL_PREFIX):
            raise InvalidArgument(f"topic names starting with {INTERNAL_PREFIX!r} are internal: {name!r}")
        cfg = config or TopicConfig()
        new = NewTopic(
            name, cfg.partitions, int(self._own["replication_factor"]), config=util.to_kafka_config(cfg)
        )
        self._call(self._admin.create_topics([new], operation_timeout=self.timeout), name)
        self._parts[name] = (time.monotonic(), cfg.partitions)
        self._starts.pop(name, None)
        return TopicInfo(name, cfg, [PartitionInfo(p, 0, 0, 0) for p in range(cfg.partitions)])

    def delete_topic(self, name: str) -> None:
        self.partitions(name, refresh=True)
        # release every client assigned to the topic first: librdkafka 2.16 crashes (SIGSEGV in its
        # metadata cache) when a consumer still holding a deleted topic's partition is used or closed
        self._reader.forget(name)
        self._writer.forget(name)
        self._call(self._admin.delete_topics([name], operation_timeout=self.timeout), name)
        self._parts.pop(name, None)
        self._starts.pop(name, None)

    def topics(self) -> list[str]:
        md = self._metadata()
        return sorted(
            t for t, m in md.topics.items() if m.error is None and not t.startswith(INTERNAL_PREFIX)
        )

    def describe(self, name: str) -> TopicInfo:
        n = self.partitions(name, refresh=True)
        entries = self._configs(name)
        if self._own["retention_mode"] == "offsets":
            self._starts[name] = (time.monotonic(), util.parse_starts(entries))
        parts = []
        for p in range(n):
            start, end, avg = self._range(name, p)
            parts.append(PartitionInfo(p, start, end, (end - start) * avg))
        return TopicInfo(name, util.from_kafka_config(n, entries), parts)

    # -- writing --------------------------------------------------------------------------
    def append(self, topic: str, records: Sequence[Record]) -> AppendResult:
        return self._writer.append(topic, self.partitions(topic), records)

    def append_values(
        self,
        topic: str,
        values: Sequence[bytes | None],
        *,
        keys: Sequence[bytes | None] | None = None,
        timestamps: Sequence[int] | int | None = None,
        partition: int | None = None,
    ) -> AppendResult:
        return self._writer.append_values(topic, self.partitions(topic), values, keys, timestamps, partition)

    # -- reading --------------------------------------------------------------------------
    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        start, end, _ = self._range(topic, partition)
        return start, end

    def _messages(self, topic: str, partition: int, offset: int, count: int) -> list[Any]:
        self._check_partition(topic, partition)
        if offset >= self._start_offsets(topic).get(partition, 0):
            queued = self._reader.read_queued(topic, partition, offset, count)
            if queued:
                return queued
        start, end, _ = self._range(topic, partition)
        if not start <= offset <= end:
            raise OffsetOutOfRange(topic, partition, offset, start, end)
        count = min(count, end - offset)
        return self._reader.read(topic, partition, offset, count) if count > 0 else []

    def read(self, topic: str, partition: int, offset: int, max_records: int = 1000) -> list[LogRecord]:
        out = []
        for m in self._messages(topic, partition, offset, max_records):
            ts, headers = util.from_wire(m)
            out.append(LogRecord(topic, partition, m.offset(), ts, m.key(), m.value(), headers))
        return out

    def read_arrow(
        self, topic: str, partition: int, start: int, end: int | None = None, max_records: int | None = None
    ) -> Iterator[pa.RecordBatch]:
        first, last, _ = self._range(topic, partition)
        if not first <= start <= last:
            raise OffsetOutOfRange(topic, partition, start, first, last)
        stop = last if end is None else min(end, last)
        if max_records is not None:
            stop = min(stop, start + max_records)
        pos = start
        while pos < stop:
            msgs = self._reader.read(topic, partition, pos, min(stop - pos, 50_000))
            if not msgs:
                break
            msgs = [m for m in msgs if m.offset() < stop]
            yield util.to_arrow(topic, partition, msgs)
            pos = msgs[-1].offset() + 1

    def offset_for_timestamp(self, topic: str, partition: int, timestamp_ms: int) -> int:
        start, end, _ = self._range(topic, partition)
        hint = self._reader.offsets_for_time(topic, partition, timestamp_ms)
        if hint < 0:
            return end
        pos = max(hint, start)
        while pos < end:  # the broker's answer is a lower bound: scan forward from it
            msgs = self._reader.read(topic, partition, pos, min(end - pos, 50_000))
            if not msgs:
                break
            for m in msgs:
                if util.from_wire(m)[0] >= timestamp_ms:
                    return m.offset()
            pos = msgs[-1].offset() + 1
        return end

    # -- consumer groups ------------------------------------------------------------------
    def _group_consumer(self, group: str) -> Consumer:
        with self._lock:
            c = self._groups.get(group)
            if c is None:
                c = self._groups[group] = Consumer(
                    {
                        **self._base,
                        "group.id": group,
                        "enable.auto.commit": False,
                        "enable.partition.eof": False,
                    }
                )
            return c

    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        for p in offsets:
            self._check_partition(topic, p)
        tps = [TopicPartition(topic, p, int(o)) for p, o in offsets.items()]
        if not tps:
            return
        try:
            with self._lock:
                res = self._group_consumer(group).commit(offsets=tps, asynchronous=False)
        except KafkaException as e:
            raise util.translate(e, self._where, topic) from None
        failed = [tp for tp in res or () if tp.error is not None]
        if failed:
            raise LogError(f"commit of group {group!r} failed for {topic}: {failed[0].error}")

    def committed(self, group: str, topic: str) -> dict[int, int]:
        try:
            n = self.partitions(topic)
        except TopicNotFound:
            return {}
        try:
            with self._lock:
                tps = self._group_consumer(group).committed(
                    [TopicPartition(topic, p) for p in range(n)], timeout=self.timeout
                )
        except KafkaException as e:
            raise util.translate(e, self._where, topic) from None
        return {tp.partition: tp.offset for tp in tps if tp.offset >= 0}

    def _group_offsets(self, group: str) -> list[TopicPartition]:
        (res,) = self._call(self._admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]))
        return [tp for tp in res.topic_partitions or () if tp.offset >= 0 and tp.error is None]

    def groups(self) -> list[str]:
        (listing,) = self._call({"": self._admin.list_consumer_groups(request_timeout=self.timeout)})
        names = sorted(g.group_id for g in listing.valid)
        return [g for g in names if not g.startswith("riverbed-reader-") and self._group_offsets(g)]

    def group_topics(self, group: str) -> list[str]:
        return sorted({tp.topic for tp in self._group_offsets(group)})

    # -- retention and lifecycle ----------------------------------------------------------
    def enforce_retention(self, topic: str | None = None) -> dict[str, int]:
        removed: dict[str, int] = {}
        for name in [topic] if topic else self.topics():
            info = self.describe(name)
            cfg = info.config
            if cfg.retention_ms is None and cfg.retention_bytes is None:
                continue
            moves = {}
            for part in info.partitions:
                new = self._retention_cutoff(name, part, cfg)
                if new > part.start_offset:
                    moves[part.partition] = new
            if moves:
                self._move_starts(name, moves)
                removed[name] = sum(new - info.partitions[p].start_offset for p, new in moves.items())
        return removed

    def _retention_cutoff(self, topic: str, part: PartitionInfo, cfg: TopicConfig) -> int:
        """The first offset to keep in `part` under `cfg`'s retention by age and size."""
        new = part.start_offset
        if cfg.retention_ms is not None:
            new = max(new, self.offset_for_timestamp(topic, part.partition, now_ms() - cfg.retention_ms))
        if cfg.retention_bytes is not None and part.end_offset > new:
            sizes: list[tuple[int, int]] = []
            pos = new
            while pos < part.end_offset:
                msgs = self._reader.read(topic, part.partition, pos, min(part.end_offset - pos, 50_000))
                if not msgs:
                    break
                sizes += [(m.offset(), util.record_size(m.key(), m.value(), m.headers())) for m in msgs]
                pos = msgs[-1].offset() + 1
            total = sum(s for _, s in sizes)
            for off, size in sizes:
                if total <= cfg.retention_bytes:
                    break
                total -= size
                new = off + 1
        return new

    def _move_starts(self, topic: str, moves: dict[int, int]) -> None:
        if self._own["retention_mode"] == "delete_records":
            try:
                self._call(
                    self._admin.delete_records([TopicPartition(topic, p, o) for p, o in moves.items()]), topic
                )
                return
            except LogError as e:
                _log.warning("DeleteRecords failed on %s (%s); recording start offsets instead",
                             self._where, e)
                self._own["retention_mode"] = "offsets"
        starts = {**self._start_offsets(topic, refresh=True), **moves}
        entry = ConfigEntry(
            util.START_KEY, util.format_starts(starts), incremental_operation=AlterConfigOpType.SET
        )
        self._call(
            self._admin.incremental_alter_configs(
                [ConfigResource("TOPIC", topic, incremental_configs=[entry])]
            ),
            topic,
        )
        self._starts[topic] = (time.monotonic(), starts)

    def close(self) -> None:
        """Flush the producer and close consumers."""
        try:
            self._writer.close()
        finally:
            self._reader.close()
            with self._lock:
                for c in self._groups.values():
                    c.close()
                self._groups.clear()
            self._admin = None  # type: ignore[assignment]  # drops its broker connections
