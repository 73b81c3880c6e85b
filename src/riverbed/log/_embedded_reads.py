"""The embedded log's read side: offsets, describe, reads into Arrow, time lookup and retention.

A mixin of `EmbeddedLog` (which provides `_topic`, `_on_topic`, `_check_partition`), kept apart so
each module reads in one sitting.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyarrow as pa

from riverbed.errors import CorruptLogError, InvalidArgument, OffsetOutOfRange, TopicNotFound
from riverbed.log import _embedded_arrow as enc
from riverbed.log import _embedded_store as st
from riverbed.log._embedded_store import Gone, Topic
from riverbed.log.api import LogRecord, PartitionInfo, TopicInfo, now_ms

T = TypeVar("T")
CHUNK_RECORDS = 65_536  # records per Arrow batch handed out by read_arrow (at most)
CHUNK_BYTES = 16 << 20
MIN_OUT_ROWS = 1000


class Range:
    """One partition's retained range and size, read in one statement."""

    __slots__ = ("bytes", "end", "last_cum", "start")

    def __init__(self, conn: sqlite3.Connection, partition: int) -> None:
        row = conn.execute(st.SQL_RANGE, (partition,)).fetchone()
        if row is None:
            raise Gone
        first, end, first_cum, last_cum, next_floor, cum_floor = row
        if first is None:
            self.start = self.end = next_floor
            self.bytes, self.last_cum = 0, cum_floor
        else:
            self.start, self.end = first, end
            self.bytes, self.last_cum = last_cum - first_cum, last_cum


class ReadMixin:
    if TYPE_CHECKING:
        _topic: Callable[[str], Topic]
        _on_topic: Callable[..., object]
        _check_partition: Callable[[Topic, int], None]

    def _range(self, topic: str, partition: int) -> tuple[Topic, Range]:
        def run(t: Topic, conn: sqlite3.Connection) -> tuple[Topic, Range]:
            self._check_partition(t, partition)
            return t, Range(conn, partition)

        return self._on_topic(topic, run)  # type: ignore[return-value]

    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        _, r = self._range(topic, partition)
        return r.start, r.end

    def describe(self, name: str) -> TopicInfo:
        def run(t: Topic, conn: sqlite3.Connection) -> TopicInfo:
            conn.execute("BEGIN")
            try:
                ranges = [Range(conn, p) for p in range(t.config.partitions)]
            finally:
                conn.execute("COMMIT")
            parts = [PartitionInfo(p, r.start, r.end, r.bytes) for p, r in enumerate(ranges)]
            return TopicInfo(t.name, t.config, parts)

        return self._on_topic(name, run)  # type: ignore[return-value]

    # -- reading ----------------------------------------------------------------------------
    def read(self, topic: str, partition: int, offset: int, max_records: int = 1000) -> list[LogRecord]:
        t, r = self._range(topic, partition)
        if not r.start <= offset <= r.end:
            raise OffsetOutOfRange(topic, partition, offset, r.start, r.end)
        out: list[LogRecord] = []
        for batch in self._iter_arrow(t, partition, offset, min(r.end, offset + max(0, max_records))):
            out.extend(enc.to_records(batch, topic, partition))
        return out

    def read_arrow(
        self,
        topic: str,
        partition: int,
        start: int,
        end: int | None = None,
        max_records: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        t, r = self._range(topic, partition)
        if not r.start <= start <= r.end:
            raise OffsetOutOfRange(topic, partition, start, r.start, r.end)
        if end is not None and end < start:
            raise InvalidArgument(f"read_arrow end {end} is before start {start}")
        stop = r.end if end is None else min(end, r.end)
        if max_records is not None:
            stop = min(stop, start + max(0, max_records))
        return self._iter_arrow(t, partition, start, stop)

    def _iter_arrow(self, t: Topic, p: int, pos: int, stop: int) -> Iterator[pa.RecordBatch]:
        while pos < stop:
            rows = self._fetch(t, p, pos, stop)
            if not rows or rows[0][0] > pos:
                start, end = self.offsets(t.name, p)
                raise OffsetOutOfRange(t.name, p, pos, start, end)
            expect = rows[0][0]
            for row in rows:
                if row[0] != expect:
                    raise CorruptLogError(t.path, f"gap before the batch at partition {p} offset {row[0]}")
                expect += row[1]
            whole = pa.Table.from_batches(enc.decode(rows, t.path, p), enc.STORE_SCHEMA)
            last = min(expect, stop)
            group: list[pa.RecordBatch] = []
            first = pos
            # stored batches of >= MIN_OUT_ROWS records go out as they are (no copy); smaller
            # neighbours are joined so consumers never see a flood of tiny batches
            for b in whole.slice(pos - rows[0][0], last - pos).to_batches():
                group.append(b)
                if sum(g.num_rows for g in group) >= MIN_OUT_ROWS:
                    yield enc.to_output(group, t.name, p, first)
                    first += sum(g.num_rows for g in group)
                    group = []
            if group:
                yield enc.to_output(group, t.name, p, first)
            pos = last

    def _fetch(self, t: Topic, p: int, pos: int, stop: int) -> list[tuple]:
        """Stored batches covering [pos, stop), about CHUNK_RECORDS records, from one snapshot."""

        def run(t: Topic, conn: sqlite3.Connection) -> list[tuple]:
            cur = conn.execute(st.SQL_READ, (p, pos, stop))
            rows: list[tuple] = []
            n = size = 0
            try:
                while n < CHUNK_RECORDS and size < CHUNK_BYTES and (more := cur.fetchmany(16)):
                    rows.extend(more)
                    n += sum(r[1] for r in more)
                    size += sum(len(r[6]) for r in more)
            finally:
                cur.close()
            return rows

        return self._on_topic(t.name, run)  # type: ignore[return-value]

    def offset_for_timestamp(self, topic: str, partition: int, timestamp_ms: int) -> int:
        def run(t: Topic, conn: sqlite3.Connection) -> int:
            self._check_partition(t, partition)
            conn.execute("BEGIN")
            try:
                r = Range(conn, partition)
                row = conn.execute(
                    "SELECT base_offset, count, crc, fmt, key, min_ts, blob FROM batches"
                    " WHERE partition=? AND max_ts >= ? ORDER BY base_offset LIMIT 1",
                    (partition, timestamp_ms),
                ).fetchone()
            finally:
                conn.execute("COMMIT")
            if row is None:
                return r.end
            base = row[0]
            (b,) = enc.decode([row], t.path, partition)
            ts = b.column(2).to_numpy()
            hits = np.flatnonzero(ts >= timestamp_ms)
            if not len(hits):
                raise CorruptLogError(t.path, f"batch at partition {partition} offset {base}: bad max_ts")
            return base + int(hits[0])

        return self._on_topic(topic, run)  # type: ignore[return-value]

    # -- retention --------------------------------------------------------------------------
    def enforce_retention(self, topic: str | None = None) -> dict[str, int]:
        if topic is not None:
            return {topic: self._on_topic(topic, _retain)}  # type: ignore[dict-item]
        out: dict[str, int] = {}
        for name in self.topics():  # type: ignore[attr-defined]
            try:
                out[name] = self._on_topic(name, _retain)  # type: ignore[assignment]
            except TopicNotFound:  # deleted meanwhile by another process
                continue
        return out


def _retain(t: Topic, conn: sqlite3.Connection) -> int:
    """Drop whole batches, oldest first, past the topic's age and size limits; records removed."""
    cfg, removed, now = t.config, 0, now_ms()
    if cfg.retention_ms is None and cfg.retention_bytes is None:
        return 0
    for p in range(cfg.partitions):
        conn.execute("BEGIN IMMEDIATE")
        try:
            r = Range(conn, p)
            keep = r.start
            if cfg.retention_ms is not None:
                row = conn.execute(
                    "SELECT base_offset FROM batches WHERE partition=? AND max_ts >= ?"
                    " ORDER BY base_offset LIMIT 1",
                    (p, now - cfg.retention_ms),
                ).fetchone()
                keep = max(keep, row[0] if row else r.end)
            if cfg.retention_bytes is not None and r.bytes > cfg.retention_bytes:
                row = conn.execute(  # first batch from which the rest fits in retention_bytes
                    "SELECT base_offset FROM batches WHERE partition=? AND cum_bytes - bytes >= ?"
                    " ORDER BY base_offset LIMIT 1",
                    (p, r.last_cum - cfg.retention_bytes),
                ).fetchone()
                keep = max(keep, row[0] if row else r.end)
            if keep > r.start:
                conn.execute("UPDATE parts SET next_offset=?, cum_bytes=? WHERE partition=?",
                             (r.end, r.last_cum, p))
                conn.execute("DELETE FROM batches WHERE partition=? AND base_offset < ?", (p, keep))
                removed += keep - r.start
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    if removed:
        conn.execute("PRAGMA incremental_vacuum").fetchall()
    return removed
