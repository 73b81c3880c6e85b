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
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from riverbed.errors import CorruptLogError, LogError, LogFullError, LogUnavailable
from riverbed.log.api import TopicConfig

FORMAT = 1
BUSY_TIMEOUT_S = 60.0
PAGE_SIZE = 8192
# Appends leave checkpoints (copying the WAL into the database file, and its fsyncs with
# synchronous=NORMAL) to a background thread once CHECKPOINT_BYTES were appended; SQLite's own
# auto-checkpoint stays as a backstop should that thread fall behind.
CHECKPOINT_BYTES = 8 << 20
AUTOCHECKPOINT_PAGES = 16384

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
    crc INTEGER NOT NULL, fmt INTEGER NOT NULL, key BLOB, blob BLOB NOT NULL,
    PRIMARY KEY(partition, base_offset)) WITHOUT ROWID;
"""

_LAST = "SELECT {cols} FROM batches WHERE partition=?1 ORDER BY base_offset DESC LIMIT 1"
_PART = "SELECT {cols} FROM parts WHERE partition=?1"
SQL_APPEND = (  # one statement = one write transaction; no parts row (topic deleted) -> NOT NULL fails
    "INSERT INTO batches VALUES (?1, max((" + _PART.format(cols="next_offset") + "), coalesce(("
    + _LAST.format(cols="base_offset + count") + "), 0)), ?2, ?3, ?4, ?5, max(("
    + _PART.format(cols="cum_bytes") + "), coalesce((" + _LAST.format(cols="cum_bytes") + "), 0)) + ?5,"
    " ?6, ?7, ?8, ?9) RETURNING base_offset"
)
SQL_RANGE = (  # (start, end, first_cum - first_bytes, last_cum, next_floor, cum_floor) of one partition
    "SELECT (SELECT base_offset FROM batches WHERE partition=?1 ORDER BY base_offset LIMIT 1),"
    " (" + _LAST.format(cols="base_offset + count") + "),"
    " (SELECT cum_bytes - bytes FROM batches WHERE partition=?1 ORDER BY base_offset LIMIT 1),"
    " (" + _LAST.format(cols="cum_bytes") + "),"
    " next_offset, cum_bytes FROM parts WHERE partition=?1"
)
SQL_READ = (
    "SELECT base_offset, count, crc, fmt, key, min_ts, blob FROM batches"
    " WHERE partition=?1 AND base_offset >= coalesce("
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
    lz4_skip: list[int] = field(default_factory=lambda: [0])  # see _embedded_arrow.encode_columns


_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_LEAKED: list[sqlite3.Connection] = []  # inherited across fork: never closed, never used
_AFTER_FORK: weakref.WeakSet = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for obj in list(_AFTER_FORK):
        obj._after_fork()


os.register_at_fork(after_in_child=_reinit_after_fork)


def map_error(e: sqlite3.Error, path: str) -> LogError:
    """Turn a sqlite3 error on `path` into the riverbed error a caller can act on."""
    code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
    msg = str(e)
    if code in _CORRUPT or "malformed" in msg or "not a database" in msg:
        return CorruptLogError(path, msg)
    if code == sqlite3.SQLITE_FULL or "disk is full" in msg:
        return LogFullError(path, msg)
    if code == sqlite3.SQLITE_IOERR and (free := _free_bytes(path)) is not None and free < LOW_SPACE:
        # an I/O error on a full disk (creating or growing a -shm/-wal file fails with ENOSPC)
        return LogFullError(path, f"{msg}; {free} bytes free on its file system")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LogUnavailable(f"{path} stayed locked for {BUSY_TIMEOUT_S:.0f}s: {msg}",
                              hint="another process holds a long write transaction; retry")
    if code == sqlite3.SQLITE_CANTOPEN:
        return LogUnavailable(f"cannot open {path}: {msg}", hint="check the log directory is writable")
    return LogError(f"storage error on {path}: {msg}", hint="see the SQLite message above")


LOW_SPACE = 1 << 20  # below this many free bytes, an SQLite I/O error is reported as a full disk


def _free_bytes(path: str) -> int | None:
    """Bytes free for this user on the file system holding `path` (None if that cannot be told)."""
    try:
        st = os.statvfs(os.path.dirname(path) or ".")
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


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
            if conn.execute("PRAGMA page_count").fetchone()[0] == 0:  # new file: these write its header,
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # so not on reopen (a full disk refused it)
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
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
        _AFTER_FORK.add(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at the fork

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


class Checkpointer:
    """A daemon thread that checkpoints WAL files after enough was appended to them."""

    def __init__(self) -> None:
        self._pid = -1
        self._pending: dict[str, int] = {}
        self._wake = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        _AFTER_FORK.add(self)

    def _after_fork(self) -> None:
        """In a forked child: the thread is gone and its lock may be held; start afresh."""
        self._wake, self._thread, self._pending, self._stop = threading.Condition(), None, {}, False

    def wrote(self, path: str, nbytes: int) -> None:
        """Count `nbytes` appended to `path`; wake the thread past CHECKPOINT_BYTES."""
        n = self._pending.get(path, 0) + nbytes
        self._pending[path] = n
        if n >= CHECKPOINT_BYTES:
            with self._wake:
                if self._pid != os.getpid() or self._thread is None:
                    self._pid, self._stop = os.getpid(), False
                    self._thread = threading.Thread(target=self._run, name="riverbed-checkpoint", daemon=True)
                    self._thread.start()
                self._wake.notify()

    def _run(self) -> None:
        conns: dict[str, sqlite3.Connection] = {}
        try:
            while True:
                with self._wake:
                    while not self._stop and not any(
                        n >= CHECKPOINT_BYTES for n in self._pending.values()
                    ):
                        self._wake.wait()
                    if self._stop:
                        return
                    due = [p for p, n in self._pending.items() if n >= CHECKPOINT_BYTES]
                    for p in due:
                        self._pending[p] = 0
                for path in due:
                    with contextlib.suppress(sqlite3.Error, LogError):
                        if not os.path.exists(path):  # topic deleted
                            if (gone := conns.pop(path, None)) is not None:
                                gone.close()
                            continue
                        conn = conns.get(path) or conns.setdefault(path, connect(path, synchronous="NORMAL"))
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            for c in conns.values():
                c.close()

    def forget(self, path: str) -> None:
        self._pending.pop(path, None)

    def close(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=30)
        self._thread = None
