"""Faults while the YSB pipeline streams, each ending with the store exactly equal to a plain-Python
count of what the log holds, and every acknowledged append in it exactly once:

- the Kafka-protocol broker frozen (SIGSTOP) for 10 s under a producer and the stream;
- producer processes SIGKILLed mid-append (embedded log) while the stream reads;
- the embedded log's disk full (a small tmpfs; root only), then space returns.

(A worker killed mid-stream and the driver killed with SIGKILL have their own tests:
tests/cluster/test_cluster_faults.py, tests/integration/test_logwatch.py.)
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from riverbed.apps.ysb.generator import WINDOW_MS, YsbGenerator
from riverbed.errors import LogFullError, RiverbedError
from riverbed.log import TopicConfig, open_log
from riverbed.pipeline.runner import Runner, StreamHandle
from riverbed.testing import TansuBroker, read_topic
from riverbed.testing.faults import FaultSetupError, read_rest, resize_tmpfs, small_tmpfs, wait_lines

SEED, T0, SPAN = 7, 1_700_000_000_000, 10_000_000  # producer r's events at T0 + r * SPAN + i ms
TOPIC = "ad-events"
CAMPAIGN = YsbGenerator(SEED).ad_to_campaign


_MADE: dict[int, list[bytes]] = {}


def events(rnd: int, first: int, n: int) -> list[bytes]:
    """Events first..first+n-1 of producer `rnd`: event i at T0 + rnd * SPAN + i ms (unique values)."""
    made = _MADE.get(rnd, [])
    if len(made) < first + n:
        gen = YsbGenerator(SEED).events(T0 + rnd * SPAN, 1000.0, 2 * (first + n))
        made = _MADE[rnd] = [e.value for e in gen]
    return made[first : first + n]


def expected(values: list[bytes]) -> dict[tuple[str, int], int]:
    """YSB's check in plain Python over raw log values: views per (campaign, 10 s window start)."""
    counts: Counter[tuple[str, int]] = Counter()
    for v in values:
        e = json.loads(v)
        if e["event_type"] == "view":
            t = int(e["event_time"])
            counts[(CAMPAIGN[e["ad_id"]], t - t % WINDOW_MS)] += 1
    return dict(counts)


def counts(runner: Runner) -> dict[tuple[str, int], int]:
    """The stream's counts in the serving store ({} before its first output)."""
    if "ysb_counts" not in runner.store.outputs():
        return {}
    return {(r["campaign_id"], r["window_start"]): r["count"] for r in runner.store.rows("ysb_counts")}


def log_values(url: str) -> list[bytes]:
    """Every value of the topic, read through a fresh log instance (CRCs checked by the read)."""
    with open_log(url) as log:
        return [r.value for r in read_topic(log, TOPIC)]


def start(spark, url: str, home: Path, trigger_ms: int = 500) -> tuple[Runner, StreamHandle]:
    # event times of different producers interleave: no lateness limit, nothing is dropped as late
    runner = Runner("ysb", log=url, home=home, spark=spark, seed=SEED, lateness_ms=10**12)
    return runner, runner.start_stream(trigger_ms=trigger_ms)


def catch_up(runner: Runner, handle: StreamHandle, want: dict, records: int, timeout: float = 60) -> dict:
    """Wait until the store holds `want` and the stream has read `records` (or `timeout` s pass);
    the query must stay alive meanwhile. Returns the store's counts."""
    deadline = time.monotonic() + timeout
    got = counts(runner)
    while (got != want or sum(s.records for s in handle.history) < records) and time.monotonic() < deadline:
        assert handle.query.isActive, f"the stream died: {handle.query.exception()}"
        time.sleep(0.25)
        got = counts(runner)
    return got


def stop(handle: StreamHandle | None) -> None:
    if handle is not None:
        with contextlib.suppress(Exception):
            handle.stop(grace=10)


# -- 1. the Kafka-protocol broker frozen -------------------------------------------------------------
class Producer(threading.Thread):
    """Appends `batches` batches of producer `rnd`'s events, retrying each as a user would."""

    def __init__(self, url: str, rnd: int, batches: int, size: int, pause_after: int, go: threading.Event):
        super().__init__(daemon=True)
        self.url, self.rnd, self.batches, self.size = url, rnd, batches, size
        self.pause_after, self.go = pause_after, go  # after that batch, wait for `go` (the freeze)
        self.acked: list[int] = []
        self.failures: Counter[int] = Counter()  # batch -> appends of it that raised
        self.errors: list[RiverbedError] = []

    def run(self) -> None:
        with open_log(self.url) as log:
            for b in range(self.batches):
                while True:
                    try:
                        log.append_values(TOPIC, events(self.rnd, b * self.size, self.size))
                        break
                    except RiverbedError as e:  # report, wait, retry the same records
                        self.failures[b] += 1
                        self.errors.append(e)
                        time.sleep(0.5)
                self.acked.append(b)
                if b == self.pause_after:
                    self.go.wait(120)  # the rest goes while the broker is frozen, and after
                time.sleep(0.1)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.kafka
def test_kafka_broker_frozen_for_10s_producers_and_stream_carry_on(spark, tmp_path: Path) -> None:
    """SIGSTOP on a dedicated Tansu for 10 s while two producers append and the stream runs; SIGCONT.

    Producer A uses `?timeout=30`: its calls wait the freeze out inside riverbed (librdkafka's
    idempotent retries), so A's appends never raise and each lands once. The stream uses
    `?timeout=3`: its offset queries fail during the freeze and the source waits the log out
    (transient errors are retried) instead of failing the query. Producer B
    uses `?timeout=3`: its appends raise during the freeze and it retries them, as a user would.
    Kafka's idempotence covers only the producer's own retries, so a batch whose append timed out
    may have landed too and B's retry store it again: B's batches are each in the log at least
    once, twice at most when (and only when) an append of it raised. The stream must count exactly
    what the log holds.
    """
    batches, size, pause = 24, 50, 8
    with TansuBroker() as broker:
        url = f"{broker.url}?timeout=30"
        with open_log(url) as log:
            log.create_topic(TOPIC, TopicConfig(partitions=2))
        go = threading.Event()
        a = Producer(url, 0, batches, size, pause, go)
        b = Producer(f"{broker.url}?timeout=3", 1, batches, size, pause, go)
        runner, handle = start(spark, f"{broker.url}?timeout=3", tmp_path)
        try:
            a.start()
            b.start()
            deadline = time.monotonic() + 60
            while min(len(a.acked), len(b.acked)) <= pause and time.monotonic() < deadline:
                time.sleep(0.05)
            assert handle.query.isActive and len(b.acked) > pause, "no appends before the freeze"
            broker.freeze()  # the stream is in its first micro-batches, or waiting for the next
            try:
                go.set()
                time.sleep(10)
                during = len(a.acked)
            finally:
                broker.thaw()
            a.join(90)
            b.join(90)
            assert not a.is_alive() and not b.is_alive(), "a producer never finished after the thaw"
            values = log_values(url)
            want = expected(values)
            got = catch_up(runner, handle, want, len(values))
            assert handle.query.isActive, f"the stream died: {handle.query.exception()}"
        finally:
            stop(handle)
    assert during <= pause + 1, "appends were acknowledged while the broker was frozen?"
    assert a.acked == b.acked == list(range(batches))
    assert not a.failures, f"appends raised during a freeze shorter than their timeout: {a.errors[:2]!s}"
    assert b.failures, "B's 3 s timeout should have run out during the 10 s freeze"
    assert all(e.transient for e in b.errors), [str(e) for e in b.errors if not e.transient][:2]
    seen = Counter(values)
    assert all(seen[v] == 1 for n in range(batches) for v in events(0, n * size, size)), "A: lost or twice"
    assert len(seen) == 2 * batches * size, "a record that no producer sent"
    for n in range(batches):
        copies = {seen[v] for v in events(1, n * size, size)}
        assert min(copies) >= 1, f"B's batch {n} lost"
        assert max(copies) <= 1 + b.failures[n], f"B's batch {n} stored more often than it was sent"
    assert got == want, "the stream's counts differ from the log's contents"
    assert sum(s.records for s in handle.history) == len(values), "records read twice or skipped"


# -- 2. producers SIGKILLed while the stream reads (embedded log) ------------------------------------
PRODUCER = textwrap.dedent(
    """
    import sys
    from riverbed.apps.ysb.generator import YsbGenerator
    from riverbed.log import open_log

    url, rnd, size, seed, start, span = sys.argv[1], *map(int, sys.argv[2:7])
    made = YsbGenerator(seed).events(start + rnd * span, 1000.0)  # as the test's events(rnd, ...)
    with open_log(url) as log:
        for b in range(100_000):
            log.append_values("ad-events", [next(made).value for _ in range(size)])
            sys.stdout.write(f"{b}\\n")  # acknowledged: only now reported
            sys.stdout.flush()
    """
)


@pytest.mark.spark
@pytest.mark.slow
def test_producers_killed_during_appends_while_the_stream_reads(spark, tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    with open_log(url) as log:
        log.create_topic(TOPIC, TopicConfig(partitions=2))
    rng = random.Random(99)
    acked: dict[int, set[int]] = {}
    sizes: dict[int, int] = {}
    runner, handle = start(spark, url, tmp_path)
    try:
        for rnd in range(5):
            sizes[rnd] = rng.choice([1, 20, 200])
            cmd = [sys.executable, "-c", PRODUCER, url, *map(str, (rnd, sizes[rnd], SEED, T0, SPAN))]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            buf = bytearray()
            try:
                wait_lines(proc, buf, 3, 30)
                time.sleep(rng.uniform(0.0, 0.3))  # then kill at a random moment, mid-append or not
            finally:
                proc.kill()
                proc.wait()
            got = [int(x) for x in read_rest(proc, buf)]  # everything it acknowledged before dying
            assert len(got) >= 3, f"round {rnd}: no acknowledgements: {proc.stderr.read()[-2000:]!r}"
            acked[rnd] = set(got)
        values = log_values(url)
        want = expected(values)
        got_counts = catch_up(runner, handle, want, len(values))
    finally:
        stop(handle)

    seen = Counter(values)
    assert max(seen.values()) == 1, "a record stored twice"
    times = {int(json.loads(v)["event_time"]) - T0 for v in values}
    for rnd, batches in acked.items():
        size = sizes[rnd]
        for b in batches:  # every acknowledged batch is there, whole, with the bytes that were sent
            missing = set(events(rnd, b * size, size)) - seen.keys()
            assert not missing, f"round {rnd}: acknowledged batch {b} lost {len(missing)} records"
        in_log = {(t - rnd * SPAN) // size for t in times if rnd * SPAN <= t < (rnd + 1) * SPAN}
        assert in_log >= batches and len(in_log - batches) <= 1, "unacknowledged: at most the one cut short"
        for b in in_log - batches:  # the batch in flight at the kill: all or nothing
            assert set(events(rnd, b * size, size)) <= seen.keys(), f"round {rnd}: batch {b} partly written"
    assert got_counts == want, "the stream's counts differ from the log's contents"
    assert sum(s.records for s in handle.history) == len(values), "records read twice or skipped"
    assert sum(want.values()) > 0


# -- 3. the embedded log's disk full ------------------------------------------------------------------
@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (root only; the test is skipped otherwise), unmounted after the test."""
    try:
        with small_tmpfs(tmp_path / "disk", "3m") as path:
            yield path
    except FaultSetupError as e:
        pytest.skip(f"disk-full test skipped: {e}")


@pytest.mark.spark
@pytest.mark.slow
def test_embedded_log_disk_full_then_space_returns(spark, tmp_path: Path, disk: Path) -> None:
    """Append to a log on a 3 MB tmpfs until LogFullError; what was acknowledged reads back whole
    through a fresh open (CRCs checked); the volume grows and appends work again; a stream counts
    exactly what was acknowledged."""
    url = f"embedded://{disk / 'log'}"
    size, acked, error = 500, [], None
    with open_log(url) as log:
        log.create_topic(TOPIC, TopicConfig(partitions=2))
        for b in range(200):
            try:
                log.append_values(TOPIC, events(0, b * size, size))
            except LogFullError as e:
                error = e
                break
            acked.append(b)
        assert error is not None, "3 MB never filled up"
        assert str(disk / "log") in str(error) and "full" in str(error).lower(), str(error)
        assert error.transient and "records already written are intact" in str(error)
        sent = [v for b in acked for v in events(0, b * size, size)]
        assert Counter(log_values(url)) == Counter(sent), "written records damaged by the full disk"

        # space returns (the volume grows): the same log instance appends again. Freeing a
        # little is not enough: closing checkpoints the WAL (all of it, here) into the database
        # file, which needs about as much space again
        resize_tmpfs(disk, "12m")
        log.append_values(TOPIC, events(0, len(acked) * size, size))
    with open_log(url) as fresh:
        fresh.append_values(TOPIC, events(0, (len(acked) + 1) * size, size))
    sent += events(0, len(acked) * size, 2 * size)
    values = log_values(url)
    assert Counter(values) == Counter(sent), "the failed batch must leave nothing behind"
    assert len(acked) >= 3, f"only {len(acked)} appends fitted: the test's sizes are off"

    runner = Runner("ysb", log=url, home=tmp_path / "home", spark=spark, seed=SEED, lateness_ms=10**12)
    handle = runner.start_stream(available_now=True)
    try:
        handle.wait(120)
    finally:
        stop(handle)
    assert counts(runner) == expected(sent)
    assert sum(s.records for s in handle.history) == len(sent)
