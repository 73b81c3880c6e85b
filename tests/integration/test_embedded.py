"""The embedded backend's own promises: integrity checks, durability settings, several processes and
threads on one directory, fork safety, retention details, and acknowledged appends surviving SIGKILL.

The cross-backend contract lives in test_log_contract.py; these tests reach into the files.
"""

from __future__ import annotations

import glob
import itertools
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pytest

from riverbed.errors import CorruptLogError, InvalidArgument, LogFullError, TopicNotFound
from riverbed.log import Record, TopicConfig, open_log, partition_for
from riverbed.log.embedded import EmbeddedLog


def topic_file(root: Path, topic: str) -> str:
    (path,) = glob.glob(str(root / "topics" / f"{topic}-*.db"))
    return path


def fill(log: EmbeddedLog, topic: str, batches: int = 30, size: int = 100) -> list[bytes]:
    """Append incompressible values (stored as they are, so a test can find them in the file)."""
    rng = random.Random(0)
    values = [b"MARK%08d" % i + rng.randbytes(60) for i in range(batches * size)]
    for b in range(batches):
        log.append_values(topic, values[b * size : (b + 1) * size], timestamps=1_000 + b, partition=0)
    return values


def read_values(log: EmbeddedLog, topic: str, partition: int = 0, start: int = 0) -> list[bytes]:
    return [v for b in log.read_arrow(topic, partition, start) for v in b.column("value").to_pylist()]


# -- integrity ----------------------------------------------------------------------------------
def test_flipped_bytes_in_a_stored_batch_raise_corrupt_log_error_naming_the_file(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        fill(log, "t")
    path = topic_file(tmp_path, "t")
    data = bytearray(Path(path).read_bytes())
    at = data.find(b"MARK00001234")
    assert at > 0
    data[at + 5] ^= 0x01  # one bit, inside a value: SQLite's structure is intact, only our CRC can tell
    Path(path).write_bytes(data)
    with EmbeddedLog(tmp_path) as log:
        assert log.read("t", 0, 0, 10)[0].value.startswith(b"MARK00000000")  # batches before it still read
        with pytest.raises(CorruptLogError, match=os.path.basename(path)) as err:
            read_values(log, "t")
        assert err.value.path == path and "checksum" in str(err.value)
        with pytest.raises(CorruptLogError):
            log.read("t", 0, 1234)


def test_a_flipped_byte_in_a_compressed_batch_is_caught_by_its_checksum(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        log.append_values("t", [b'{"level":"INFO","n":%d}' % i for i in range(5000)], partition=0)
    path = topic_file(tmp_path, "t")
    data = bytearray(Path(path).read_bytes())
    at = data.find(bytes.fromhex("04224d18"))  # the LZ4 frame magic: the blob was stored compressed
    assert at > 0
    data[at + 200] ^= 0x40
    Path(path).write_bytes(data)
    with EmbeddedLog(tmp_path) as log, pytest.raises(CorruptLogError, match="checksum"):
        read_values(log, "t")


@pytest.mark.parametrize("damage", ["header", "truncate-half", "truncate-to-100-bytes"])
def test_damaged_or_truncated_file_is_reported_not_misread(tmp_path: Path, damage: str) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        fill(log, "t")
    path = topic_file(tmp_path, "t")
    if damage == "header":
        with open(path, "r+b") as f:
            f.write(b"not sqlite at all")
    else:
        os.truncate(path, os.path.getsize(path) // 2 if damage == "truncate-half" else 100)
    with EmbeddedLog(tmp_path) as log, pytest.raises(CorruptLogError, match=os.path.basename(path)):
        read_values(log, "t")


def test_disk_full_raises_log_full_error_and_keeps_what_was_written(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        values = fill(log, "t", batches=5)
        conn = log._conns.get(log._topic("t").path, "NORMAL")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages + 2}")  # the file may grow by 2 pages: a full disk
        with pytest.raises(LogFullError, match="t-"):
            log.append_values("t", [os.urandom(1000) for _ in range(200)], partition=0)
        assert log.offsets("t", 0) == (0, 500)
        assert read_values(log, "t") == values
        conn.execute("PRAGMA max_page_count=1000000")  # space freed: appends go on where they stopped
        assert list(log.append_values("t", [b"after"], partition=0)) == [(0, 500)]


# -- settings and reopening ---------------------------------------------------------------------
def test_fsync_always_is_persisted_reported_and_used(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("safe", TopicConfig(partitions=2, fsync="always", retention_ms=86_400_000))
        log.create_topic("fast")
    with open_log(f"embedded://{tmp_path}") as log:
        assert isinstance(log, EmbeddedLog)
        expected = TopicConfig(partitions=2, fsync="always", retention_ms=86_400_000)
        assert log.describe("safe").config == expected
        assert log.describe("fast").config.fsync == "none"
        log.append("safe", [Record(b"x")])
        sync = {t: log._conns.get(log._topic(t).path, "").execute("PRAGMA synchronous").fetchone()[0]
                for t in ("safe", "fast")}
    assert sync == {"safe": 2, "fast": 1}  # FULL (fsync each commit) vs NORMAL
    with EmbeddedLog(tmp_path, fsync="always") as log:  # the log-wide setting covers every topic
        log.append("fast", [Record(b"x")])
        assert log._conns.get(log._topic("fast").path, "").execute("PRAGMA synchronous").fetchone()[0] == 2


def test_reopen_after_close_sees_everything(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("a", TopicConfig(partitions=3))
        recs = [Record(b"v%d" % i, key=b"k%d" % i, headers=(("h", b"%d" % i),)) for i in range(300)]
        res = log.append("a", recs)
        log.commit("g", "a", {0: 5, 2: 7})
        assert log.url == f"embedded://{tmp_path.resolve()}"
    with open_log(f"embedded://{tmp_path}") as log:
        assert log.topics() == ["a"]
        assert log.committed("g", "a") == {0: 5, 2: 7}
        assert log.describe("a").records == 300
        got = {(r.partition, r.offset): r for p in range(3) for r in log.read("a", p, 0, 1000)}
        for rec, pos in zip(recs, res, strict=True):
            assert (got[pos].value, got[pos].key, got[pos].headers) == (rec.value, rec.key, rec.headers)


def test_reading_from_the_middle_of_stored_batches_slices_them(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        values = fill(log, "t", batches=10, size=100)
        batches = list(log.read_arrow("t", 0, 150, 777))
        table = pa.Table.from_batches(batches)
        assert table.column("offset").to_pylist() == list(range(150, 777))
        assert table.column("value").to_pylist() == values[150:777]
        assert [r.offset for r in log.read("t", 0, 199, 3)] == [199, 200, 201]
        assert log.offset_for_timestamp("t", 0, 1_004) == 400


def test_a_big_append_is_stored_as_bounded_batches_and_reads_back_whole(tmp_path: Path) -> None:
    import sqlite3

    from riverbed.log._embedded_arrow import STORE_BATCH_BYTES

    rng = random.Random(1)
    values = [rng.randbytes(rng.randrange(50, 400)) for _ in range(6_000)]  # ~1.3 MB, incompressible
    big = rng.randbytes(2 * STORE_BATCH_BYTES)  # one record bigger than the bound: stored alone
    keys = [b"k%d" % i for i in range(len(values))]
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
        first = log.append_values("t", values, keys=keys, timestamps=list(range(len(values))))
        second = log.append("t", [Record(v) for v in values[:3000]] + [Record(big)] + [Record(b"tail")])
        assert list(first.offsets) == list(range(6_000))
        assert list(second.offsets) == list(range(6_000, 9_002))
        table = pa.Table.from_batches(list(log.read_arrow("t", 0, 0)))
        assert table.column("value").to_pylist() == values + values[:3000] + [big, b"tail"]
        assert table.column("key").to_pylist()[:6_000] == keys
        assert table.column("offset").to_pylist() == list(range(9_002))
        assert log.offset_for_timestamp("t", 0, 4_321) == 4_321  # per-record timestamps kept per chunk
    conn = sqlite3.connect(topic_file(tmp_path, "t"))
    rows = conn.execute("SELECT base_offset, count, length(blob) + coalesce(length(key), 0) FROM batches"
                        " ORDER BY base_offset").fetchall()
    conn.close()
    assert len(rows) > 2 * (1_300_000 // STORE_BATCH_BYTES)  # both appends were cut
    assert [b for b, _, _ in rows] == [0, *itertools.accumulate(c for _, c, _ in rows[:-1])]
    framing = lambda count: 1024 + 16 * count  # noqa: E731  Arrow's offsets, timestamps and header
    oversized = [(b, c) for b, c, size in rows if size > STORE_BATCH_BYTES + framing(c)]
    assert oversized == [(9_000, 1)]  # only the one record too big for any batch


def test_unkeyed_appends_stick_to_one_partition_per_call_and_rotate(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=3))
        calls = [log.append_values("t", [b"x"] * 10) for _ in range(6)]
        per_call = [set(r.partitions) for r in calls]
        assert all(len(s) == 1 for s in per_call)
        assert {p for s in per_call for p in s} == {0, 1, 2}
        assert [next(iter(s)) for s in per_call[:3]] != [next(iter(per_call[0]))] * 3


def test_keyed_append_values_layouts(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=4))
        same = [b"k"] * 5  # every key on one partition
        res = log.append_values("t", [b"%d" % i for i in range(5)], keys=same, timestamps=[1, 2, 3, 4, 5])
        assert list(res) == [(partition_for(b"k", 4), i) for i in range(5)]
        keys = [b"a", None, b"b", b"c", None, b"a"]  # unkeyed ones share this call's sticky partition
        res = log.append_values("t", [b"v"] * 6, keys=keys)
        sticky = {p for (p, _), k in zip(res, keys, strict=True) if k is None}
        assert len(sticky) == 1
        for (p, o), k in zip(res, keys, strict=True):
            assert k is None or p == partition_for(k, 4)
            assert log.read("t", p, o, 1)[0].key == k


def test_bad_input_is_rejected_with_riverbed_errors(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=2))
        with pytest.raises(InvalidArgument, match="keys must be bytes"):
            log.append("t", [Record(b"v", key="text")])  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="keys must be bytes"):
            log.append_values("t", [b"v", b"w"], keys=[b"k", 5])  # type: ignore[list-item]
        with pytest.raises(InvalidArgument, match="timestamps"):
            log.append_values("t", [b"a", b"b"], timestamps=["x", "y"])  # type: ignore[list-item]
        with pytest.raises(InvalidArgument, match="topic name"):
            log.create_topic("a/b")
        with pytest.raises(InvalidArgument, match="partition 2"):
            log.read("t", 2, 0)
        assert log.describe("t").records == 0  # nothing half-written


# -- retention ------------------------------------------------------------------------------------
def test_retention_removes_whole_batches_and_numbering_continues(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("s", TopicConfig(retention_bytes=5_000))
        for _ in range(10):
            log.append_values("s", [b"x" * 100] * 20, partition=0)
        assert log.enforce_retention("s") == {"s": log.offsets("s", 0)[0]}
        start, end = log.offsets("s", 0)
        assert start % 20 == 0 and 0 < start < 200 and end == 200
        assert log.describe("s").partitions[0].bytes <= 5_000
        now = int(time.time() * 1000)
        log.create_topic("a", TopicConfig(retention_ms=1_000))
        log.append_values("a", [b"old"] * 50, timestamps=now - 60_000, partition=0)
        assert log.enforce_retention() == {"a": 50, "s": 0}
        assert log.offsets("a", 0) == (50, 50)
        assert log.describe("a").partitions[0].bytes == 0
        assert log.read("a", 0, 50) == []
        assert list(log.append_values("a", [b"new"], partition=0)) == [(0, 50)]
        assert [r.value for r in log.read("a", 0, 50)] == [b"new"]


# -- many writers -------------------------------------------------------------------------------
def _producer(root: str, name: str, batches: int) -> list[tuple[int, int]]:
    with EmbeddedLog(root) as log:
        acked = []
        for b in range(batches):
            size = 1 + (b * 7) % 40
            vals = [f"{name}:{b}:{i}".encode() for i in range(size)]
            res = log.append_values("t", vals, partition=0)
            acked.extend(zip(res.offsets, vals, strict=True))
        return acked


def test_four_spawned_processes_get_contiguous_offsets_in_their_own_order(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t")
    with mp.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_producer, [(str(tmp_path), f"p{i}", 60) for i in range(4)])
    acked = dict(pair for r in results for pair in r)
    with EmbeddedLog(tmp_path) as log:
        stored = read_values(log, "t")
    assert len(stored) == len(acked) == sum(len(r) for r in results)
    assert {off: stored[off] for off in acked} == acked  # each ack names the record at that offset
    for i in range(4):
        mine = [v for v in stored if v.startswith(b"p%d:" % i)]
        assert mine == [v for _, v in results[i]]  # a producer's records keep its order


def test_threads_of_one_process_share_a_log(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=2))
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(100):
                    log.append("t", [Record(b"%d-%d" % (n, i), key=b"%d" % n)])
                    log.read("t", 0, 0, 5)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        info = log.describe("t")
        assert info.records == 400
        for p in info.partitions:
            assert [r.offset for r in log.read("t", p.partition, 0, 1000)] == list(range(p.end_offset))


def _forked_child(root: str, conn) -> None:
    with EmbeddedLog(root) as fresh:
        fresh.append_values("t", [b"from-fresh"], partition=0)
    conn.send("ok")


def test_a_forked_child_reopens_connections(tmp_path: Path) -> None:
    log = EmbeddedLog(tmp_path)
    log.create_topic("t")
    log.append_values("t", [b"parent-1"], partition=0)
    ctx = mp.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    # the child uses the parent's EmbeddedLog object itself, as a forked Spark worker would
    proc = ctx.Process(target=lambda: (log.append_values("t", [b"child"], partition=0),
                                       child_end.send([r.value for r in log.read("t", 0, 0)])))
    proc.start()
    assert parent_end.recv() == [b"parent-1", b"child"]
    proc.join(10)
    assert proc.exitcode == 0
    log.append_values("t", [b"parent-2"], partition=0)  # the parent's connections still work
    assert [r.value for r in log.read("t", 0, 0)] == [b"parent-1", b"child", b"parent-2"]
    log.close()


def test_a_topic_deleted_by_another_process_is_seen_as_gone_and_can_come_back(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as a, EmbeddedLog(tmp_path) as b:
        a.create_topic("t")
        b.append_values("t", [b"one"], partition=0)  # b caches the topic's file and connection
        a.delete_topic("t")
        with pytest.raises(TopicNotFound):
            b.append_values("t", [b"two"], partition=0)
        a.create_topic("t", TopicConfig(partitions=2))
        assert list(b.append_values("t", [b"three"], partition=1)) == [(1, 0)]
        assert b.describe("t").config.partitions == 2
        live = topic_file(tmp_path, "t")
        assert all(f.startswith(live) for f in glob.glob(str(tmp_path / "topics" / "*")))  # old file gone


# -- crash safety -------------------------------------------------------------------------------
CRASHER = textwrap.dedent(
    """
    import os, sys, zlib
    from riverbed.log.embedded import EmbeddedLog
    root, name, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = os.fdopen(1, "wb", buffering=0)
    with EmbeddedLog(root) as log:
        n = 0
        while True:
            size = (1, 7, 300)[(n + seed) % 3]
            ids = [f"{name}-{n + i}".encode() for i in range(size)]
            vals = [i + b":" + b"%08x" % zlib.crc32(i) * 8 for i in ids]
            res = log.append_values("t", vals, keys=ids if n % 2 else None)
            out.write(b"".join(b"%d %d %s\\n" % (p, o, i) for (p, o), i in zip(res, ids)))
            n += size
    """
)


def test_acknowledged_appends_survive_sigkill_at_random_moments(tmp_path: Path) -> None:
    with EmbeddedLog(tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=2))
    rng = random.Random(7)
    acked: dict[bytes, tuple[int, int]] = {}
    for rnd in range(20):
        proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(tmp_path), f"r{rnd}", str(rnd)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(proc.stdout.fileno(), False)
        buf, deadline = b"", time.monotonic() + 30
        while buf.count(b"\n") < 3 and time.monotonic() < deadline and proc.poll() is None:
            buf += proc.stdout.read() or b""
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        buf += proc.stdout.read() or b""
        assert buf.count(b"\n") >= 3, f"round {rnd}: no acknowledgement: {proc.stderr.read()[-2000:]!r}"
        for line in buf.split(b"\n")[:-1]:  # the last piece may be a line cut by the kill
            p, o, rid = line.split()
            acked[rid] = (int(p), int(o))
    stored: dict[bytes, tuple[int, int]] = {}
    with EmbeddedLog(tmp_path) as log:
        for p in range(2):
            table = pa.Table.from_batches(list(log.read_arrow("t", p, 0)))
            assert table.column("offset").to_pylist() == list(range(table.num_rows)), "offsets not contiguous"
            offsets, values = table.column("offset").to_pylist(), table.column("value").to_pylist()
            for off, val in zip(offsets, values, strict=True):
                rid = val.split(b":")[0]
                assert val == rid + b":" + b"%08x" % zlib.crc32(rid) * 8, f"damaged record at {p}/{off}"
                assert rid not in stored, f"{rid!r} stored twice"
                stored[rid] = (p, off)
    assert len(acked) > 20 * 3
    print(f"sigkill: {len(acked)} acknowledged, {len(stored)} stored")
    assert {rid: stored.get(rid) for rid in acked} == acked  # every ack present, at its offset
