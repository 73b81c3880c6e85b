"""SQLite plumbing of the embedded log: file schemas, per-thread connections, error mapping.

Files under the log root: `meta.db` (topics and their configs, consumer-group offsets) and one
`topics/<name>-<id>.db` per topic (its partitions and stored batches). All are in WAL mode.
Connections are per thread and per process: after a fork (Spark Python workers) the child opens
its own and never touches, or closes, the ones it inherited.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from riverbed.errors import CorruptLogError, LogError, LogFullError, LogUnavailable
from riverbed.log.api import TopicConfig

FORMAT = 1
BUSY_TIMEOUT_S = 60.0
PAGE_SIZE = 8192

META_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics(
    name TEXT PRIMARY KEY, file TEXT NOT NULL, partitions INTEGER NOT NULL,
    retention_ms INTEGER, retention_bytes INTEGER, fsync TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS group_offsets(
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY(grp, topic, partition)) WITHOUT ROWID;
"""

# parts.next_offset / parts.cum_bytes are floors, only written by retention: while a partition has
# batches, its end is the last batch's base_offset + count, so a single-record append writes one
# b-tree leaf. cum_bytes is the partition's running byte total, so sizes need no scan.
TOPIC_SCHEMA = """
CREATE TABLE info(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE parts(partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL, cum_bytes INTEGER NOT NULL);
CREATE TABLE batches(
    partition INTEGER NOT NULL, base_offset INTEGER NOT NULL, count INTEGER NOT NULL,
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, bytes INTEGER NOT NULL, cum_bytes INTEGER NOT NULL,
    crc INTEGER NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY(partition, base_offset)) WITHOUT ROWID;
"""

_LAST = "SELECT {cols} FROM batches WHERE partition=?1 ORDER BY base_offset DESC LIMIT 1"
SQL_APPEND = (
    "INSERT INTO batches SELECT ?1, coalesce(l.base_offset + l.count, p.next_offset), ?2, ?3, ?4, ?5,"
    " coalesce(l.cum_bytes, p.cum_bytes) + ?5, ?6, ?7"
    " FROM parts p LEFT JOIN (" + _LAST.format(cols="base_offset, count, cum_bytes") + ") l"
    " WHERE p.partition=?1 RETURNING base_offset"
)
SQL_RANGE = (  # (start, end, first_cum - first_bytes, last_cum, next_floor, cum_floor) of one partition
    "SELECT (SELECT base_offset FROM batches WHERE partition=?1 ORDER BY base_offset LIMIT 1),"
    " (" + _LAST.format(cols="base_offset + count") + "),"
    " (SELECT cum_bytes - bytes FROM batches WHERE partition=?1 ORDER BY base_offset LIMIT 1),"
    " (" + _LAST.format(cols="cum_bytes") + "),"
    " next_offset, cum_bytes FROM parts WHERE partition=?1"
)
SQL_READ = (
    "SELECT base_offset, count, crc, blob FROM batches WHERE partition=?1 AND base_offset >= coalesce("
    "(SELECT base_offset FROM batches WHERE partition=?1 AND base_offset <= ?2"
    " ORDER BY base_offset DESC LIMIT 1), ?2) AND base_offset < ?3 ORDER BY base_offset"
)



class Gone(Exception):
    """Internal: the cached topic file no longer belongs to a live topic (deleted or replaced)."""


@dataclass
class Topic:
    """A topic as this process knows it: its file, config and SQLite synchronous level."""

    name: str
    path: str
    config: TopicConfig
    sync: str


_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_LEAKED: list[sqlite3.Connection] = []  # inherited across fork: never closed, never used


def map_error(e: sqlite3.Error, path: str) -> LogError:
    """Turn a sqlite3 error on `path` into the riverbed error a caller can act on."""
    code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
    msg = str(e)
    if code in _CORRUPT or "malformed" in msg or "not a database" in msg:
        return CorruptLogError(path, msg)
    if code == sqlite3.SQLITE_FULL or "disk is full" in msg:
        return LogFullError(path, msg)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LogUnavailable(f"{path} stayed locked for {BUSY_TIMEOUT_S:.0f}s: {msg}",
                              hint="another process holds a long write transaction; retry")
    if code == sqlite3.SQLITE_CANTOPEN:
        return LogUnavailable(f"cannot open {path}: {msg}", hint="check the log directory is writable")
    return LogError(f"storage error on {path}: {msg}", hint="see the SQLite message above")


@contextlib.contextmanager
def guarded(path: str) -> Iterator[None]:
    """Map sqlite3 errors raised inside the block (never leak them to callers)."""
    try:
        yield
    except sqlite3.Error as e:
        raise map_error(e, path) from e


def connect(path: str, *, synchronous: str, create: bool = False) -> sqlite3.Connection:
    """Open `path` in autocommit mode (explicit BEGIN for multi-statement transactions)."""
    uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
    with guarded(path):
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_S, cached_statements=64)
        if create:
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA cache_size=-16384")
        conn.execute("PRAGMA journal_size_limit=67108864")
    return conn


class Connections:
    """One connection per (thread, file), reopened after fork; `drop` closes a file's everywhere."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: dict[str, list[tuple[sqlite3.Connection, dict]]] = {}

    def _mine(self) -> dict[str, sqlite3.Connection]:
        if os.getpid() != self._pid:  # forked: the parent's connections are not ours to use or close
            with self._lock:
                for conns in self._open.values():
                    _LEAKED.extend(c for c, _ in conns)
                self._open, self._pid, self._local = {}, os.getpid(), threading.local()
        mine = getattr(self._local, "conns", None)
        if mine is None:
            mine = self._local.conns = {}
        return mine

    def get(self, path: str, synchronous: str) -> sqlite3.Connection:
        mine = self._mine()
        conn = mine.get(path)
        if conn is None:
            conn = mine[path] = connect(path, synchronous=synchronous)
            with self._lock:
                self._open.setdefault(path, []).append((conn, mine))
        return conn

    def drop(self, path: str) -> None:
        self._mine()
        with self._lock:
            conns = self._open.pop(path, [])
        for conn, owner in conns:
            owner.pop(path, None)
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def close(self) -> None:
        for path in list(self._open):
            self.drop(path)
