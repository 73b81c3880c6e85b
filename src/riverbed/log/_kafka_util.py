"""Helpers of the Kafka backend: error translation, topic configs, delivery reports, Arrow columns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from riverbed.errors import InvalidArgument, LogError, LogUnavailable, TopicExists, TopicNotFound
from riverbed.log.api import AppendResult, TopicConfig, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

#: Topic config key where riverbed keeps per-partition start offsets on brokers without DeleteRecords.
START_KEY = "riverbed.start.offsets"
#: Approximate bytes a record costs on a broker beyond its key, value and headers (Kafka v2 format).
RECORD_OVERHEAD = 20
#: librdkafka reads timestamp 0 as "now"; a record timed at epoch 0 is sent at 1 ms with this header.
TS0_HEADER = "riverbed.ts0"
_UNAVAILABLE = {
    "_TRANSPORT",
    "_TIMED_OUT",
    "_ALL_BROKERS_DOWN",
    "_RESOLVE",
    "_MSG_TIMED_OUT",
    "REQUEST_TIMED_OUT",
    "NOT_ENOUGH_REPLICAS",
    "LEADER_NOT_AVAILABLE",
    "_WAIT_COORD",
}
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def unavailable(url: str, detail: object) -> LogUnavailable:
    """The error for a broker that does not answer, naming where riverbed looked."""
    servers = url.split("://", 1)[-1]
    return LogUnavailable(
        f"cannot reach the Kafka broker at {servers}: {detail}",
        hint=f"is the broker running at {servers}? set --log / RIVERBED_LOG to the right kafka://HOST:PORT",
    )


def translate(exc: BaseException, url: str, topic: str | None = None) -> Exception:
    """A riverbed exception for a confluent-kafka error (KafkaException or KafkaError)."""
    err = exc.args[0] if exc.args and hasattr(exc.args[0], "name") else exc
    name = err.name() if hasattr(err, "name") else ""
    if name in _UNAVAILABLE:
        return unavailable(url, err.str() if hasattr(err, "str") else err)
    if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC") and topic:
        return TopicNotFound(topic)
    if name == "TOPIC_ALREADY_EXISTS" and topic:
        return TopicExists(topic)
    if name == "_UNKNOWN_PARTITION":
        return LogError(
            f"the broker does not know this partition of topic '{topic}': {err.str()}",
            hint="the topic has fewer partitions than assumed; was it deleted and re-created?",
        )
    text = err.str() if hasattr(err, "str") else str(err)
    return LogError(f"Kafka error{f' on topic {topic!r}' if topic else ''}: {name} {text}".strip())


def check_topic_name(name: str) -> None:
    if not isinstance(name, str) or not _TOPIC_NAME.match(name) or name in (".", ".."):
        raise InvalidArgument(
            f"invalid topic name {name!r}", hint="use 1-249 characters from letters, digits, '.', '_', '-'"
        )


def to_kafka_config(cfg: TopicConfig) -> dict[str, str]:
    """Kafka topic configs for `cfg`; every key is set explicitly so `describe` reads it back."""
    return {
        "retention.ms": str(cfg.retention_ms if cfg.retention_ms is not None else -1),
        "retention.bytes": str(cfg.retention_bytes if cfg.retention_bytes is not None else -1),
        "flush.messages": "1" if cfg.fsync == "always" else "9223372036854775807",
    }


def from_kafka_config(partitions: int, entries: dict[str, Any]) -> TopicConfig:
    """The TopicConfig for described Kafka configs (ConfigEntry values)."""

    def num(key: str) -> int | None:
        e = entries.get(key)
        value = getattr(e, "value", e)
        try:
            n = int(value) if value is not None else -1
        except ValueError:
            return None
        return n if n > 0 else None

    return TopicConfig(
        partitions=partitions,
        retention_ms=num("retention.ms"),
        retention_bytes=num("retention.bytes"),
        fsync="always" if num("flush.messages") == 1 else "none",
    )


def parse_starts(entries: dict[str, Any]) -> dict[int, int]:
    """Per-partition start offsets kept in the START_KEY topic config ("0:12,1:40")."""
    e = entries.get(START_KEY)
    raw = getattr(e, "value", e) or ""
    out = {}
    for part in raw.split(","):
        if ":" in part:
            p, o = part.split(":", 1)
            out[int(p)] = int(o)
    return out


def format_starts(starts: dict[int, int]) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(starts.items()))


def to_wire(ts: int | None, headers: Sequence | None) -> tuple[int, list | None]:
    """The (timestamp, headers) to produce for a record's own; None means the append time."""
    if ts == 0:
        return 1, [*(headers or ()), (TS0_HEADER, b"")]
    return ts or 0, list(headers) if headers else None


def from_wire(m: Any) -> tuple[int, tuple]:
    """A consumed message's (timestamp, headers), undoing `to_wire`."""
    ts = m.timestamp()[1]
    h = m.headers()
    if not h:
        return ts, ()
    if ts == 1 and h[-1][0] == TS0_HEADER:
        return 0, tuple(h[:-1])
    return ts, tuple(h)


def record_size(key: bytes | None, value: bytes | None, headers: Sequence | None) -> int:
    """Approximate bytes a record takes on a broker (the unit of retention.bytes here)."""
    size = RECORD_OVERHEAD + (len(key) if key else 0) + (len(value) if value else 0)
    for hk, hv in headers or ():
        size += len(hk) + (len(hv) if hv else 0)
    return size


class Delivery:
    """Collects the delivery reports of one append: offsets per partition, and failures."""

    __slots__ = ("done", "errors", "offsets")

    def __init__(self) -> None:
        self.offsets: dict[int, list[int]] = {}
        self.errors: list[Any] = []
        self.done = 0

    def __call__(self, err: Any, msg: Any) -> None:
        self.done += 1
        if err is not None:
            self.errors.append(err)
        else:
            self.offsets.setdefault(msg.partition(), []).append(msg.offset())

    def result(self, partitions: Sequence[int], order: dict[int, list[int]]) -> AppendResult:
        """Map reports back to input order: a partition's offsets ascend in the order records were sent."""
        n = len(partitions)
        if len(order) == 1:
            (p,) = order
            offs = sorted(self.offsets[p])
            contiguous = offs[-1] - offs[0] == n - 1
            return AppendResult([p] * n, range(offs[0], offs[0] + n) if contiguous else offs)
        out = [0] * n
        for p, idx in order.items():
            for i, off in zip(idx, sorted(self.offsets[p]), strict=True):
                out[i] = off
        return AppendResult(list(partitions), out)


def to_arrow(topic: str, partition: int, msgs: list[Any]) -> pa.RecordBatch:
    """An Arrow batch of `arrow_schema()` from consumed confluent-kafka messages."""
    import pyarrow as pa

    schema = arrow_schema()
    n = len(msgs)
    stamps = [m.timestamp()[1] for m in msgs]
    raw = [m.headers() for m in msgs]
    headers: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    if any(raw):
        for i, m in enumerate(msgs):
            if raw[i]:
                stamps[i], h = from_wire(m)
                headers[i] = [{"key": k, "value": v} for k, v in h]
    return pa.RecordBatch.from_arrays(
        [
            pa.array([m.key() for m in msgs], pa.binary()),
            pa.array([m.value() for m in msgs], pa.binary()),
            pa.array([topic] * n, pa.string()),
            pa.array([partition] * n, pa.int32()),
            pa.array([m.offset() for m in msgs], pa.int64()),
            pa.array(stamps, pa.timestamp("ms", tz="UTC")),
            pa.array(headers, schema.field("headers").type),
        ],
        schema=schema,
    )
