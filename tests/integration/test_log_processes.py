"""Several OS processes on one log, over both backends: concurrent producers, and producers killed
with SIGKILL at random moments. Nothing acknowledged may be lost, duplicated or damaged."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest

from riverbed.log import Log, TopicConfig, open_log
from riverbed.testing import read_topic

PRODUCER = textwrap.dedent(
    """
    import hashlib, json, sys
    from riverbed.log import open_log, Record

    url, topic, name = sys.argv[1:4]
    batches, size = int(sys.argv[4]), int(sys.argv[5])
    def payload(rid):
        return (rid + ":" + hashlib.sha256(rid.encode()).hexdigest()).encode()
    with open_log(url) as log:
        seq = 0
        for b in range(batches):
            ids = [f"{name}-{seq + i}" for i in range(size)]
            seq += size
            res = log.append(topic, [Record(payload(i), key=i.encode()) for i in ids])
            # acknowledged: only now report them
            sys.stdout.write("".join(f"{p} {o} {i}\\n" for (p, o), i in zip(res, ids)))
            sys.stdout.flush()
    """
)


def payload(rid: str) -> bytes:
    return (rid + ":" + hashlib.sha256(rid.encode()).hexdigest()).encode()


def _read_available(fd: int) -> bytes:
    """Whatever the child has written so far (non-blocking)."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


def spawn(url: str, topic: str, name: str, batches: int, size: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PRODUCER, url, topic, name, str(batches), str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_four_concurrent_producer_processes(log: Log, log_url: str, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=3))
    procs = {f"p{i}": spawn(log_url, topic, f"p{i}", 40, 50) for i in range(4)}
    acked: dict[str, tuple[int, int]] = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name} failed: {err[-2000:].decode()}"
        for line in out.decode().splitlines():
            p, o, rid = line.split()
            acked[rid] = (int(p), int(o))
    assert len(acked) == 4 * 40 * 50

    seen: dict[str, tuple[int, int]] = {}
    for p in range(3):
        recs = read_topic(log, topic, p)
        # offsets contiguous from 0, no gaps, no repeats
        assert [r.offset for r in recs] == list(range(len(recs)))
        last_seq: dict[str, int] = {}
        for r in recs:
            rid = r.value.split(b":")[0].decode()
            assert r.value == payload(rid), f"damaged record at {p}/{r.offset}"
            assert rid not in seen, f"{rid} written twice"
            seen[rid] = (p, r.offset)
            prod, seq = rid.rsplit("-", 1)
            assert int(seq) > last_seq.get(prod, -1), "a producer's records out of order in a partition"
            last_seq[prod] = int(seq)
    assert seen == acked


@pytest.mark.slow
def test_producers_killed_with_sigkill_lose_nothing_acknowledged(log: Log, log_url: str, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    rng = random.Random(1234)
    acked: dict[str, tuple[int, int]] = {}
    rounds = 12
    for rnd in range(rounds):
        proc = spawn(log_url, topic, f"r{rnd}", 100_000, rng.choice([1, 10, 200]))
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        # let it start (imports) and get some appends through, then kill at a random moment
        deadline = time.monotonic() + 30
        buf = b""
        while time.monotonic() < deadline and buf.count(b"\n") < 5 and proc.poll() is None:
            buf += _read_available(fd)
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        buf += _read_available(fd)
        text = buf.decode()
        text = text[: text.rfind("\n") + 1]  # a line cut short by the kill is no acknowledgement
        err = proc.stderr.read().decode()[-2000:]
        assert text.count("\n") >= 5, f"round {rnd}: producer never acknowledged: {err}"
        for line in text.splitlines():
            p, o, rid = line.split()
            acked[rid] = (int(p), int(o))

    counts: Counter[str] = Counter()
    stored: dict[str, tuple[int, int]] = {}
    with open_log(log_url) as fresh:  # a fresh view, as another process would have
        for p in range(2):
            recs = read_topic(fresh, topic, p)
            assert [r.offset for r in recs] == list(range(len(recs))), "offsets not contiguous after kills"
            for r in recs:
                rid = r.value.split(b":")[0].decode()
                assert r.value == payload(rid), f"damaged record at {p}/{r.offset}"
                counts[rid] += 1
                stored[rid] = (p, r.offset)
    assert len(acked) > rounds * 5
    missing = [rid for rid in acked if rid not in stored]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}"
    dup = [rid for rid, n in counts.items() if n > 1]
    assert not dup, f"records stored twice: {dup[:3]}"
    wrong_place = [rid for rid, pos in acked.items() if stored[rid] != pos]
    assert not wrong_place, f"acknowledged at one offset, stored at another: {wrong_place[:3]}"
    print(json.dumps({"rounds": rounds, "acknowledged": len(acked), "stored": len(stored)}))
