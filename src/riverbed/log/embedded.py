"""The embedded log: topics in SQLite files (WAL mode), one row per appended batch as an Arrow blob.

Layout under the root: `meta.db` (topics, configs, consumer-group offsets) and one
`topics/<name>-<id>.db` per topic. A batch row holds (partition, base_offset, count, min/max
timestamp, bytes, running byte total, CRC32, Arrow IPC message); offsets are assigned inside the
INSERT itself, so concurrent producer processes get contiguous, unique offsets (SQLite's write lock,
waited on for up to 60 s). Reads hand whole Arrow batches out, sliced at the requested offsets.

Durability (when `append` returns):
- fsync="none" (default): WAL with synchronous=NORMAL. The batch is in the OS page cache, so it
  survives SIGKILL or a crash of any process; a power loss or kernel crash may lose the last
  appends (never corrupting earlier ones).
- fsync="always" (log-wide, or a topic's TopicConfig.fsync): synchronous=FULL, the WAL is fsynced
  before `append` returns, so the batch also survives power loss.
Stored batches are LZ4-compressed when that saves at least 10% (see `_embedded_arrow`).
Integrity: every blob carries a CRC32 and its record count, batches must be contiguous; a failed
check, or SQLite reporting a malformed / non-database file, raises CorruptLogError naming the
file. A full disk raises LogFullError and the failed batch is rolled back.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from riverbed.errors import InvalidArgument, LogError, TopicExists, TopicNotFound
from riverbed.log import _embedded_store as st
from riverbed.log._embedded_reads import ReadMixin
from riverbed.log._embedded_store import Gone, Topic
from riverbed.log._embedded_writes import WriteMixin
from riverbed.log.api import FSYNC_MODES, Log, TopicConfig, TopicInfo, now_ms

T = TypeVar("T")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class EmbeddedLog(ReadMixin, WriteMixin, Log):
    """A durable log on local disk; many threads and processes may share one root directory."""

    def __init__(self, root: Path | str, *, fsync: str = "none") -> None:
        if fsync not in FSYNC_MODES:
            raise InvalidArgument(f"fsync must be one of {FSYNC_MODES}, got {fsync!r}")
        self.root = Path(root).expanduser().resolve()
        self.url = f"embedded://{self.root}" + ("?fsync=always" if fsync == "always" else "")  # reopens alike
        self.fsync = fsync
        self._meta_path = str(self.root / "meta.db")
        self._meta_sync = "FULL" if fsync == "always" else "NORMAL"
        try:
            (self.root / "topics").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LogError(f"cannot create the log directory {self.root}: {e}",
                           hint="pass a writable directory (embedded:///path or --home)") from e
        self._conns = st.Connections()
        self._checkpoints = st.Checkpointer()
        self._cache: dict[str, Topic] = {}
        self._sticky: dict[str, int] = {}
        self._lock = threading.Lock()
        conn = st.connect(self._meta_path, synchronous=self._meta_sync, create=True)
        with st.guarded(self._meta_path):
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] < 2:  # new: no write lock
                conn.executescript(st.META_SCHEMA)
            conn.close()

    # -- plumbing ---------------------------------------------------------------------------
    def _meta(self) -> sqlite3.Connection:
        return self._conns.get(self._meta_path, self._meta_sync)

    def _topic(self, name: str) -> Topic:
        t = self._cache.get(name)
        if t is None:
            with st.guarded(self._meta_path):
                row = self._meta().execute(
                    "SELECT file, partitions, retention_ms, retention_bytes, fsync FROM topics WHERE name=?",
                    (name,),
                ).fetchone()
            if row is None:
                raise TopicNotFound(name)
            cfg = TopicConfig(partitions=row[1], retention_ms=row[2], retention_bytes=row[3], fsync=row[4])
            sync = "FULL" if "always" in (cfg.fsync, self.fsync) else "NORMAL"
            t = self._cache[name] = Topic(name, str(self.root / "topics" / row[0]), cfg, sync)
        return t

    def _forget(self, t: Topic) -> None:
        if self._cache.get(t.name) is t:
            del self._cache[t.name]
        self._conns.drop(t.path)

    def _on_topic(self, name: str, fn: Callable[[Topic, sqlite3.Connection], T]) -> T:
        """Run `fn` on the topic's file; if that file was deleted meanwhile, look the topic up again."""
        for _ in range(3):
            t = self._topic(name)
            try:
                conn = self._conns.get(t.path, t.sync)
                with st.guarded(t.path):
                    return fn(t, conn)
            except Gone:
                self._forget(t)
            except LogError:
                if os.path.exists(t.path):
                    raise
                self._forget(t)
        raise TopicNotFound(name)

    @staticmethod
    def _check_partition(t: Topic, partition: int) -> None:
        if not isinstance(partition, int) or not 0 <= partition < t.config.partitions:
            raise InvalidArgument(
                f"partition {partition!r} does not exist in topic '{t.name}'",
                hint=f"it has partitions 0..{t.config.partitions - 1}",
            )

    # -- topics -----------------------------------------------------------------------------
    def create_topic(self, name: str, config: TopicConfig | None = None) -> TopicInfo:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
            raise InvalidArgument(f"invalid topic name {name!r}",
                                  hint="use 1-249 letters, digits, '.', '_' or '-' (Kafka's rule)")
        cfg = config or TopicConfig()
        path = str(self.root / "topics" / f"{name[:200]}-{uuid.uuid4().hex[:8]}.db")  # NAME_MAX 255
        meta = self._meta()
        with st.guarded(self._meta_path):
            meta.execute("BEGIN IMMEDIATE")
            try:
                if meta.execute("SELECT 1 FROM topics WHERE name=?", (name,)).fetchone():
                    raise TopicExists(name)
                self._create_file(path, name, cfg)
                meta.execute(
                    "INSERT INTO topics VALUES (?,?,?,?,?,?,?)",
                    (name, os.path.basename(path), cfg.partitions, cfg.retention_ms,
                     cfg.retention_bytes, cfg.fsync, now_ms()),
                )
                meta.execute("COMMIT")
            except BaseException:
                meta.execute("ROLLBACK")
                _unlink_db(path)
                raise
            if "always" in (cfg.fsync, self.fsync):  # a checkpoint fsyncs the WAL holding the new row
                meta.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._cache.pop(name, None)
        return self.describe(name)

    def _create_file(self, path: str, name: str, cfg: TopicConfig) -> None:
        sync = "FULL" if "always" in (cfg.fsync, self.fsync) else "NORMAL"
        conn = st.connect(path, synchronous=sync, create=True)
        with st.guarded(path):
            conn.executescript(st.TOPIC_SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO parts VALUES (?, 0, 0)", [(p,) for p in range(cfg.partitions)])
            conn.executemany("INSERT INTO info VALUES (?, ?)", [("format", st.FORMAT), ("topic", name)])
            conn.execute("COMMIT")
            conn.close()
        if sync == "FULL":
            _fsync_dir(os.path.dirname(path))

    def delete_topic(self, name: str) -> None:
        meta = self._meta()
        with st.guarded(self._meta_path):
            meta.execute("BEGIN IMMEDIATE")
            row = meta.execute("SELECT file FROM topics WHERE name=?", (name,)).fetchone()
            if row is None:
                meta.execute("ROLLBACK")
                raise TopicNotFound(name)
            meta.execute("DELETE FROM topics WHERE name=?", (name,))
            meta.execute("DELETE FROM group_offsets WHERE topic=?", (name,))
            meta.execute("COMMIT")
        path = str(self.root / "topics" / row[0])
        # processes still holding the file see no partitions, so they stop writing to it
        with contextlib.suppress(LogError, sqlite3.Error):
            conn = st.connect(path, synchronous="NORMAL")
            conn.execute("DELETE FROM parts")
            conn.close()
        self._cache.pop(name, None)
        self._checkpoints.forget(path)
        self._conns.drop(path)
        _unlink_db(path)

    def topics(self) -> list[str]:
        with st.guarded(self._meta_path):
            return [r[0] for r in self._meta().execute("SELECT name FROM topics ORDER BY name")]

    # -- consumer groups --------------------------------------------------------------------
    def commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        t = self._topic(topic)
        rows = []
        for p, off in offsets.items():
            self._check_partition(t, p)
            if not isinstance(off, int) or off < 0:
                raise InvalidArgument(f"committed offset for {topic}[{p}] must be an int >= 0, got {off!r}")
            rows.append((group, topic, p, off))
        meta = self._meta()
        with st.guarded(self._meta_path):
            meta.execute("BEGIN IMMEDIATE")
            try:
                meta.executemany("INSERT OR REPLACE INTO group_offsets VALUES (?,?,?,?)", rows)
                meta.execute("COMMIT")
            except BaseException:
                meta.execute("ROLLBACK")
                raise

    def committed(self, group: str, topic: str) -> dict[int, int]:
        with st.guarded(self._meta_path):
            cur = self._meta().execute(
                "SELECT partition, next_offset FROM group_offsets WHERE grp=? AND topic=?", (group, topic)
            )
            return dict(cur.fetchall())

    def groups(self) -> list[str]:
        with st.guarded(self._meta_path):
            return [r[0] for r in self._meta().execute("SELECT DISTINCT grp FROM group_offsets ORDER BY grp")]

    def group_topics(self, group: str) -> list[str]:
        with st.guarded(self._meta_path):
            cur = self._meta().execute(
                "SELECT DISTINCT topic FROM group_offsets WHERE grp=? ORDER BY topic", (group,)
            )
            return [r[0] for r in cur]

    def close(self) -> None:
        self._checkpoints.close()
        self._conns.close()
        self._cache.clear()


def _unlink_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

