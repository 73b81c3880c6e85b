"""The embedded log's write side: partition choice, Arrow encoding and the INSERT that numbers.

A mixin of `EmbeddedLog` (which provides `_on_topic`, `_check_partition`, `_checkpoints`, `_sticky`
and `_lock`). Keyed records go to Kafka's murmur2 partition, `Record.partition` wins, unkeyed ones
stick to one partition per call, rotating between calls (Kafka's sticky partitioner).
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from riverbed.errors import InvalidArgument
from riverbed.log import _embedded_arrow as enc
from riverbed.log import _embedded_store as st
from riverbed.log._embedded_store import Gone, Topic
from riverbed.log.api import AppendResult, Record, check_columns, now_ms
from riverbed.log.partitioner import partition_for


class WriteMixin:
    if TYPE_CHECKING:
        _on_topic: Callable[..., object]
        _check_partition: Callable[[Topic, int], None]
        _checkpoints: st.Checkpointer
        _sticky: dict[str, int]
        _lock: threading.Lock

    def _sticky_partition(self, t: Topic) -> int:
        with self._lock:
            n = self._sticky.get(t.name)
            n = random.randrange(t.config.partitions) if n is None else n + 1
            self._sticky[t.name] = n
        return n % t.config.partitions

    def _write(self, name: str, build: Callable[[Topic], list[tuple[int, list[enc.Encoded]]]]) -> list[int]:
        """Store each partition's encoded batches (all atomically together); the base offset of each
        partition's first batch."""

        def run(t: Topic, conn: sqlite3.Connection) -> list[int]:
            items = build(t)
            several = len(items) > 1 or len(items[0][1]) > 1
            if several:
                conn.execute("BEGIN IMMEDIATE")
            try:
                bases = []
                for p, chunks in items:
                    for i, e in enumerate(chunks):
                        row = conn.execute(st.SQL_APPEND, (
                            p, e.count, e.min_ts, e.max_ts, e.size, e.crc, e.fmt, e.key, e.blob))
                        got = row.fetchall()
                        if not got:
                            raise Gone
                        if i == 0:
                            bases.append(got[0][0])
                if several:
                    conn.execute("COMMIT")
                self._checkpoints.wrote(t.path, sum(e.size for _, chunks in items for e in chunks))
                return bases
            except sqlite3.IntegrityError as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if getattr(e, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_NOTNULL":
                    raise Gone from e  # no partition row to number from: the topic was deleted
                raise
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return self._on_topic(name, run)

    def append(self, topic: str, records: Sequence[Record]) -> AppendResult:
        if not records:
            return AppendResult([], [])
        now = now_ms()
        parts: list[int] = []

        def build(t: Topic) -> list[tuple[int, list[enc.Encoded]]]:
            parts.clear()
            n, sticky = t.config.partitions, None
            for r in records:
                if r.partition is not None:
                    self._check_partition(t, r.partition)
                    parts.append(r.partition)
                elif r.key is not None:
                    parts.append(_key_partition(r.key, n))
                else:
                    sticky = self._sticky_partition(t) if sticky is None else sticky
                    parts.append(sticky)
            groups: dict[int, list[Record]] = {}
            for p, r in zip(parts, records, strict=True):
                groups.setdefault(p, []).append(r)
            return [(p, enc.encode_records(rs, now, t.lz4_skip)) for p, rs in groups.items()]

        bases = self._write(topic, build)
        if len(bases) == 1:
            return AppendResult([parts[0]] * len(records), range(bases[0], bases[0] + len(records)))
        nxt = dict(zip(dict.fromkeys(parts), bases, strict=True))
        offsets = []
        for p in parts:
            offsets.append(nxt[p])
            nxt[p] += 1
        return AppendResult(parts, offsets)

    def append_values(
        self,
        topic: str,
        values: Sequence[bytes | None],
        *,
        keys: Sequence[bytes | None] | None = None,
        timestamps: Sequence[int] | int | None = None,
        partition: int | None = None,
    ) -> AppendResult:
        n = check_columns(values, keys, timestamps)
        if n == 0:
            return AppendResult([], [])
        ts = now_ms() if timestamps is None else timestamps
        layout: list[np.ndarray | int] = []

        def build(t: Topic) -> list[tuple[int, list[enc.Encoded]]]:
            layout.clear()
            if partition is not None:
                self._check_partition(t, partition)
                layout.append(partition)
                return [(partition, enc.encode_chunks(values, keys, ts, skip=t.lz4_skip))]
            np_ = t.config.partitions
            if keys is None or np_ == 1:
                p = 0 if np_ == 1 else self._sticky_partition(t)
                layout.append(p)
                return [(p, enc.encode_chunks(values, keys, ts, skip=t.lz4_skip))]
            sticky = self._sticky_partition(t)
            arr = np.fromiter((sticky if k is None else _key_partition(k, np_) for k in keys), np.int32, n)
            layout.append(arr)
            vals, ks = pa.array(values, pa.binary()), pa.array(keys, pa.binary())
            tsa = ts if isinstance(ts, int) else pa.array(ts, pa.int64())
            out = []
            for p in dict.fromkeys(arr.tolist()):
                idx = pa.array(np.flatnonzero(arr == p))
                t_p = ts if isinstance(tsa, int) else tsa.take(idx)
                out.append((p, enc.encode_chunks(vals.take(idx), ks.take(idx), t_p, skip=t.lz4_skip)))
            return out

        bases = self._write(topic, build)
        arr = layout[0]
        if not isinstance(arr, np.ndarray):  # one partition for all
            return AppendResult([arr] * n, range(bases[0], bases[0] + n))
        offsets = np.empty(n, dtype=np.int64)
        for p, base in zip(dict.fromkeys(arr.tolist()), bases, strict=True):
            idx = np.flatnonzero(arr == p)
            offsets[idx] = np.arange(base, base + len(idx))
        return AppendResult(arr.tolist(), offsets.tolist())


def _key_partition(key: bytes, partitions: int) -> int:
    """Kafka's partition for `key`; InvalidArgument (not a TypeError) for a key that is not bytes."""
    if not isinstance(key, bytes | bytearray):
        raise InvalidArgument(f"record keys must be bytes or None, got {type(key).__name__}",
                              hint="encode text keys with .encode()")
    return partition_for(bytes(key), partitions)
