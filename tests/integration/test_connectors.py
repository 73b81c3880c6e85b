"""Connectors against real sockets and files on 127.0.0.1, over both log backends where it matters.

Every line sent must arrive exactly once (count and content); what cannot be used lands in
`<topic>.dlq` with its reason; tail survives rotation; replay keeps event times and its pace;
the synthetic generator is deterministic; `riverbed demo` and `riverbed ingest` run as processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from riverbed.apps.logwatch.lines import parse_line
from riverbed.connectors import (
    FORMATS,
    Ingestor,
    LogGenerator,
    ReplaySource,
    SocketTextSource,
    SyntheticLogs,
    TailSource,
    chain,
    utf8_text,
)
from riverbed.dlq import dead_letter_record, dlq_topic, read_dead_letters, write_dead_letters
from riverbed.errors import LogUnavailable, TopicNotFound
from riverbed.log import Log, TopicConfig, open_log
from riverbed.testing import read_topic


class Running:
    """An Ingestor draining `source` in a background thread; `finish()` stops it and returns stats."""

    def __init__(self, ingestor: Ingestor, source) -> None:
        self.ingestor, self.error = ingestor, None
        self.thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self.thread.start()

    def _run(self, source) -> None:
        try:
            self.ingestor.run(source)
        except BaseException as e:
            self.error = e

    def wait_for(self, written: int, rejected: int = 0, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        st = self.ingestor.stats
        while (st.written < written or st.rejected < rejected) and time.monotonic() < deadline:
            assert self.error is None, self.error
            time.sleep(0.05)

    def finish(self):
        self.ingestor.stop()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "ingestor did not stop"
        assert self.error is None, self.error
        return self.ingestor.stats


def must_not_say_bad(record):
    if b"BAD" in (record.value or b""):
        raise ValueError("the line says BAD")
    return record


def test_socket_three_clients_exactly_once_and_dlq(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    source = SocketTextSource(port=0)
    run = Running(
        Ingestor(log, topic, batch_size=64, linger_ms=20, decode=chain(utf8_text, must_not_say_bad)), source
    )
    expected: list[bytes] = []

    def client(c: int) -> None:
        lines = [f"client {c} line {i} ünïcode".encode() for i in range(300)]
        payload = b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(lines))
        with socket.create_connection(("127.0.0.1", source.port)) as s:
            for i in range(0, len(payload), 997):  # chunks that cut lines (and characters) in half
                s.sendall(payload[i : i + 997])
                if i % 9 == 0:
                    time.sleep(0.001)
        expected.extend(lines)

    clients = [threading.Thread(target=client, args=(c,)) for c in range(3)]
    for t in clients:
        t.start()
    with socket.create_connection(("127.0.0.1", source.port)) as s:
        s.sendall(b"good before\n\xff\xfe not utf-8\nthis one is BAD\ngood after, no newline")
    for t in clients:
        t.join()
    run.wait_for(written=902, rejected=2)
    stats = run.finish()

    values = [r.value for r in read_topic(log, topic)]
    assert len(values) == 902
    assert Counter(values) == Counter([*expected, b"good before", b"good after, no newline"])
    assert (stats.records_in, stats.written, stats.rejected) == (904, 902, 2)
    dead = {d.value: d for d in read_dead_letters(log, topic)}
    assert set(dead) == {b"\xff\xfe not utf-8", b"this one is BAD"}
    assert "invalid UTF-8 at byte 0" in dead[b"\xff\xfe not utf-8"].reason
    assert "the line says BAD" in dead[b"this one is BAD"].reason
    assert {d.source for d in dead.values()} == {"connector:socket"}
    assert log.describe(dlq_topic(topic)).config.partitions == 1


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_socket_overlong_line_goes_to_dlq_and_the_next_line_is_intact(log: Log, topic: str) -> None:
    log.create_topic(topic)
    source = SocketTextSource(port=0, max_line_bytes=100)
    run = Running(Ingestor(log, topic, linger_ms=20), source)
    with socket.create_connection(("127.0.0.1", source.port)) as s:
        s.sendall(b"short\n")
        for _ in range(5):
            s.sendall(b"x" * 70)  # 350 bytes before its newline
            time.sleep(0.02)
        s.sendall(b"\nafter\n")
    run.wait_for(written=2, rejected=1)
    run.finish()
    assert [r.value for r in read_topic(log, topic)] == [b"short", b"after"]
    [dead] = read_dead_letters(log, topic)
    assert dead.value == b"x" * 100 and "longer than 100 bytes" in dead.reason


def test_dead_letter_round_trip(log: Log, topic: str) -> None:
    assert read_dead_letters(log, topic) == []
    recs = [
        dead_letter_record(
            b"raw %d" % i, f"reason {i}", "pipeline:logwatch", key=b"k", origin=f"{topic}/0/{i}"
        )
        for i in range(3)
    ]
    write_dead_letters(log, topic, recs)
    back = read_dead_letters(log, topic)
    assert [(d.value, d.key, d.reason, d.source, d.origin) for d in back] == [
        (b"raw %d" % i, b"k", f"reason {i}", "pipeline:logwatch", f"{topic}/0/{i}") for i in range(3)
    ]
    assert all(d.time_ms and abs(d.time_ms - time.time() * 1000) < 60_000 for d in back)


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_tail_follows_appends_and_rotations(log: Log, topic: str, tmp_path: Path) -> None:
    log.create_topic(topic)
    path = tmp_path / "app.log"
    path.write_bytes(b"old line, before the tail started\n")
    source = TailSource(path, poll_s=0.02)
    run = Running(Ingestor(log, topic, batch_size=50, linger_ms=20), source)
    deadline = time.monotonic() + 10
    while source.snapshot()["inode"] is None and time.monotonic() < deadline:  # opened, at its end
        time.sleep(0.01)
    expected = []
    with open(path, "ab", buffering=0) as f:
        for i in range(100):
            f.write(b"first %d\n" % i)
            expected.append(b"first %d" % i)
        f.write(b"partial ")  # the rest of this line comes later
        time.sleep(0.2)
        f.write(b"line done\n")
        expected.append(b"partial line done")
        run.wait_for(written=101)
        os.rename(path, tmp_path / "app.log.1")  # rotation by rename; the writer still has the old file
        f.write(b"late write to the old file\n")
        expected.append(b"late write to the old file")
    with open(path, "ab", buffering=0) as f:
        for i in range(50):
            f.write(b"second %d\n" % i)
            expected.append(b"second %d" % i)
        run.wait_for(written=152)
        f.truncate(0)  # rotation by copytruncate: the file shrinks in place
        f.seek(0)
        for i in range(5):
            f.write(b"third %d\n" % i)
            expected.append(b"third %d" % i)
    run.wait_for(written=len(expected))
    stats = run.finish()
    assert [r.value for r in read_topic(log, topic)] == expected
    assert stats.written == len(expected) and stats.rejected == 0
    assert source.rotations == 2  # one rename, one copytruncate


def test_replay_keeps_event_times_and_rate(log: Log, topic: str, tmp_path: Path) -> None:
    log.create_topic(topic)
    base = 1_700_000_000_000
    rows, want = [], []
    for i in range(40):
        t = base + i * 1500
        if i % 4 == 0:
            row = {"n": i, "ts": t}  # epoch ms
        elif i % 4 == 1:
            row = {"n": i, "ts": t / 1000}  # epoch seconds
        elif i % 4 == 2:
            row = {
                "n": i,
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t / 1000)) + f".{t % 1000:03d}Z",
            }
        else:
            row = {"n": i, "meta": {"at": t}}  # nested, the second field named
        rows.append(json.dumps(row))
        want.append(t)
    path = tmp_path / "recorded.jsonl"
    path.write_text("\n".join(rows) + "\n")
    began = time.monotonic()
    stats = Ingestor(log, topic, rate=100, linger_ms=50).run(ReplaySource(path, time_field="ts,meta.at"))
    elapsed = time.monotonic() - began
    got = read_topic(log, topic)
    assert [json.loads(r.value)["n"] for r in got] == list(range(40))
    assert [r.timestamp for r in got] == want
    assert stats.written == 40
    assert 0.3 <= elapsed <= 5.0, f"40 records at 100/s took {elapsed:.2f}s"  # loose: a shared machine


def test_replay_speed_follows_recorded_gaps(tmp_path: Path) -> None:
    path = tmp_path / "slow.jsonl"
    path.write_text("".join(json.dumps({"t": 1000 + i}) + "\n" for i in range(6)))  # 1 s apart, epoch s
    source = ReplaySource(path, time_field="t", speed=10)
    began = time.monotonic()
    items = [x for x in source.read() if x is not None]
    elapsed = time.monotonic() - began
    assert [x.timestamp for x in items] == [(1000 + i) * 1000 for i in range(6)]
    assert 0.45 <= elapsed <= 3.0, f"5 gaps of 1 s at 10x took {elapsed:.2f}s"


def test_synthetic_logs_deterministic_and_every_format() -> None:
    def take(seed: int, n: int = 4000):
        gen = LogGenerator(seed, start_ms=1_700_000_000_000, rate=200, burst_every=500)
        it = gen.lines()
        return [next(it) for _ in range(n)]

    a, b, c = take(42), take(42), take(43)
    assert [x.text for x in a] == [x.text for x in b]
    assert [x.text for x in a] != [x.text for x in c]
    assert a[-1].time_ms == 1_700_000_000_000 + 3999 * 5
    assert {x.format for x in a} == set(FORMATS)
    for line in a:
        parsed = parse_line(line.text, year=2023)
        assert parsed is not None, line.text
        assert (parsed.format, parsed.level, parsed.time_ms // 1000) == (
            line.format,
            line.level,
            line.time_ms // 1000,
        )
    levels = Counter(x.level for x in a)
    assert levels["INFO"] > levels["WARN"] > 0 and levels["ERROR"] > 0
    assert any(x.burst for x in a), "no error burst in 4000 lines with burst_every=500"
    burst = [x for x in a if x.burst]
    assert all(x.level not in ("INFO", "NOTICE") for x in burst)


def test_synthetic_source_into_log(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=3))
    stats = Ingestor(log, topic, batch_size=200).run(
        SyntheticLogs(5, count=1000, start_ms=1_000_000, rate=1000)
    )
    got = read_topic(log, topic)
    assert stats.written == len(got) == 1000
    assert sorted(r.timestamp for r in got) == [1_000_000 + i for i in range(1000)]


class FlakyLog:
    """A real log whose first `failures` appends raise a transient LogUnavailable (fault injection)."""

    def __init__(self, log: Log, failures: int) -> None:
        self.log, self.failures, self.calls = log, failures, 0

    def append(self, topic, records):
        self.calls += 1
        if self.calls <= self.failures:
            raise LogUnavailable("broker away for a moment")
        return self.log.append(topic, records)

    def ensure_topic(self, name, config=None):
        return self.log.ensure_topic(name, config)


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_transient_errors_are_retried_with_backoff_and_terminal_ones_raise(log: Log, topic: str) -> None:
    log.create_topic(topic)
    flaky = FlakyLog(log, failures=3)
    began = time.monotonic()
    stats = Ingestor(flaky, topic, backoff_s=0.05).run(SyntheticLogs(1, count=10))  # type: ignore[arg-type]
    assert (stats.written, stats.retries, len(read_topic(log, topic))) == (10, 3, 10)
    assert time.monotonic() - began >= 0.05 + 0.1 + 0.2  # exponential: 50 ms, 100 ms, 200 ms
    with pytest.raises(LogUnavailable):
        Ingestor(FlakyLog(log, failures=99), topic, max_retries=2, backoff_s=0.01).run(  # type: ignore[arg-type]
            SyntheticLogs(1, count=10)
        )
    with pytest.raises(TopicNotFound):
        Ingestor(log, "no-such-topic-" + topic).run(SyntheticLogs(1, count=10))


def _riverbed(*args: str, home: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "RIVERBED_HOME": str(home)}
    env.pop("RIVERBED_LOG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "riverbed", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_cli_ingest_socket_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    proc = _riverbed("ingest", "socket", "--port", "0", "lines", "--linger-ms", "50", home=tmp_path)
    assert proc.stderr is not None
    port = None
    for _ in range(20):
        line = proc.stderr.readline()
        if m := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
            port = int(m[1])
            break
    assert port, "no 'listening on' line"
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"".join(b"hello %d\n" % i for i in range(50)))
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err  # a clean stop, by SIGINT
    assert "written 50" in err and "rejected 0" in err
    with open_log(home=tmp_path) as log:
        assert sorted(r.value for r in read_topic(log, "lines")) == sorted(b"hello %d" % i for i in range(50))


def test_demo_ingest_fills_the_topics(tmp_path: Path) -> None:
    proc = _riverbed("demo", "--duration", "5", "--no-pipeline", "--history", "0", "--home", str(tmp_path),
                     home=tmp_path / "unused")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "logs end" in out and "demo ran" in err
    with open_log(home=tmp_path) as log:
        info = log.describe("logs")
        assert info.config.partitions == 4
        assert info.records > 200  # ~300 lines/s synthetic for 5 s
        values = [r.value for r in read_topic(log, "logs")]
        events = [r.value for r in read_topic(log, "spark-events")]
    assert events and all(v.startswith(b'{"Event":"SparkListener') for v in events)
    assert {p.format for v in values if (p := parse_line(v))} >= {"hdfs", "spark", "apache"}


def test_demo_runs_logwatch_end_to_end(tmp_path: Path) -> None:
    """The full demo: logs in, the streaming pipeline, live window counts; stops cleanly on Ctrl-C."""
    from riverbed.store import SqliteStore

    proc = _riverbed("demo", "--trigger", "1s", "--history", "60", "--home", str(tmp_path), "--port", "0",
                     home=tmp_path / "unused")
    db = tmp_path / "serving.db"
    deadline = time.monotonic() + 180
    counted = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            store = SqliteStore(db)
            if "level_counts" in store.outputs():
                counted = sum(r["count"] for r in store.rows("level_counts"))
                if counted and store.last_batch("logwatch") >= 1:
                    break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert counted > 0, "no window counts reached the serving store"
    assert re.search(r"\| batch \d+: \d+ rec", out), out[-2000:]  # live status lines name micro-batches
    assert "pipeline  " in err and "micro-batches" in err
