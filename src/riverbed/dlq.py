"""Dead letters: input riverbed could not use, kept with the reason instead of being dropped.

Connectors and pipelines write what they reject to `<topic>.dlq`. A dead-letter record keeps the
original bytes as its value and the original key, and says why in its headers:

    riverbed.reason   utf-8 text, e.g. "invalid UTF-8 at byte 3"
    riverbed.source   who rejected it: "connector:socket", "pipeline:logwatch", ...
    riverbed.origin   optional "topic/partition/offset" of the rejected input record
    riverbed.time     epoch ms when it was rejected

    >>> rec = dead_letter_record(b"\\xff oops", "invalid UTF-8", "connector:socket")
    >>> write_dead_letters(log, "logs", [rec])                      # doctest: +SKIP
    >>> [d.reason for d in read_dead_letters(log, "logs")]           # doctest: +SKIP
    ['invalid UTF-8']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from riverbed.log.api import AppendResult, Headers, Log, LogRecord, Record, TopicConfig, now_ms

DLQ_SUFFIX = ".dlq"
H_REASON = "riverbed.reason"
H_SOURCE = "riverbed.source"
H_ORIGIN = "riverbed.origin"
H_TIME = "riverbed.time"
MAX_REASON_CHARS = 2000


def dlq_topic(topic: str) -> str:
    """The dead-letter topic for `topic`: "<topic>.dlq"."""
    return topic + DLQ_SUFFIX


def origin_of(record: LogRecord) -> str:
    """The "topic/partition/offset" string naming where a log record was read from."""
    return f"{record.topic}/{record.partition}/{record.offset}"


def dead_letter_record(
    value: bytes | None,
    reason: str,
    source: str,
    key: bytes | None = None,
    origin: str | None = None,
    time_ms: int | None = None,
) -> Record:
    """A record for the DLQ keeping `value` and `key` as they were, with why and who in its headers."""
    reason = reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
    t = now_ms() if time_ms is None else time_ms
    headers: list[tuple[str, bytes]] = [(H_REASON, reason.encode()), (H_SOURCE, source.encode())]
    if origin is not None:
        headers.append((H_ORIGIN, origin.encode()))
    headers.append((H_TIME, str(t).encode()))
    return Record(value=value, key=key, timestamp=t, headers=tuple(headers))


def write_dead_letters(log: Log, topic: str, records: Sequence[Record]) -> AppendResult | None:
    """Append dead-letter `records` to `<topic>.dlq`, creating it (1 partition) if missing."""
    if not records:
        return None
    name = dlq_topic(topic)
    log.ensure_topic(name, TopicConfig(partitions=1))
    return log.append(name, list(records))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-letter record read back: the original bytes and key, why, who, and where from."""

    value: bytes | None
    key: bytes | None
    reason: str
    source: str
    origin: str | None
    time_ms: int | None
    offset: int


def _header(headers: Headers, name: str) -> str | None:
    for k, v in headers:
        if k == name:
            return v.decode("utf-8", "replace")
    return None


def as_dead_letter(record: LogRecord) -> DeadLetter:
    """Decode a record read from a DLQ topic."""
    t = _header(record.headers, H_TIME)
    return DeadLetter(
        value=record.value,
        key=record.key,
        reason=_header(record.headers, H_REASON) or "",
        source=_header(record.headers, H_SOURCE) or "",
        origin=_header(record.headers, H_ORIGIN),
        time_ms=int(t) if t and t.isdigit() else None,
        offset=record.offset,
    )


def read_dead_letters(log: Log, topic: str, limit: int = 10_000) -> list[DeadLetter]:
    """Up to `limit` dead letters of `topic` (oldest first); [] if it has no DLQ topic yet."""
    name = dlq_topic(topic)
    if not log.exists(name):
        return []
    out: list[DeadLetter] = []
    for p in log.describe(name).partitions:
        offset = p.start_offset
        while offset < p.end_offset and len(out) < limit:
            batch = log.read(name, p.partition, offset, min(1000, limit - len(out)))
            if not batch:
                break
            out.extend(as_dead_letter(r) for r in batch)
            offset = batch[-1].offset + 1
    return out


def read_reasons(log: Log, topic: str, limit: int = 10_000) -> list[str]:
    """Just the reasons of `topic`'s dead letters, oldest first."""
    return [d.reason for d in read_dead_letters(log, topic, limit)]
