"""YSB on the peers (Bytewax, Quix Streams), measured the way riverbed's own YSB bench measures it.

    make bench-peers
    .venv/bin/python benchmarks/peers/harness.py --engine bytewax --rates 5000,20000 --duration 30
    .venv/bin/python benchmarks/peers/harness.py --engine quix --prefill 1000000

Runs in riverbed's venv; each peer program runs as a subprocess with the peers venv's python and
reads a topic of a Tansu broker. `run_peer`: riverbed's paced generator (the same Ingestor and
YsbSource as `riverbed.apps.ysb.bench.run_rate`) writes at `rate` for `duration` s while the peer
consumes; the result has run_rate's keys plus `engine` and `correct`. `run_peer_prefill`: N events
are written first, as fast as possible, then the peer consumes them: its ceiling in events/s.
`correct`: the peer's final count for every (campaign, window) equals the count recomputed from
the generator (same seed and start time, `expected_counts`), over all windows, complete or not.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riverbed.apps.ysb.generator import YsbGenerator
from riverbed.apps.ysb.measure import check, expected, first_event_ms, judge, paced_run
from riverbed.errors import InvalidArgument
from riverbed.log import Log, Record, TopicConfig, open_log
from riverbed.testing import TansuBroker

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]  # a relative peers python is looked up here too (when not under the cwd)
PROGRAMS = {"bytewax": "ysb_bytewax.py", "quix": "ysb_quix.py"}


class Peer:
    """One peer program as a subprocess; its stdout protocol (READY, PROGRESS n, DONE {...}) parsed."""

    def __init__(self, engine: str, python: str, bootstrap: str, topic: str, work: Path,
                 mapping: list[tuple[str, str]], expect: int | None = None,
                 idle_timeout: float = 30.0) -> None:
        if engine not in PROGRAMS:
            raise InvalidArgument(f"unknown engine {engine!r}", hint=f"one of {sorted(PROGRAMS)}")
        if not Path(python).is_file() and not Path(python).is_absolute() and (ROOT / python).is_file():
            python = str(ROOT / python)
        if not Path(python).is_file():
            raise InvalidArgument(f"no peers python at {python}", hint="run `make bench-peers` first")
        (work / "mapping.json").write_text(json.dumps(mapping))
        self.out, self.err = work / "rows.jsonl", (work / "stderr.txt").open("w+")
        cmd = [python, str(HERE / PROGRAMS[engine]), "--bootstrap", bootstrap, "--topic", topic,
               "--mapping", str(work / "mapping.json"), "--out", str(self.out),
               "--idle-timeout", str(idle_timeout)]
        if expect is not None:
            cmd += ["--expect", str(expect)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, bufsize=1)
        self.ready, self.processed, self.done = threading.Event(), 0, None
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"peer-{engine}")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("PROGRESS "):
                self.processed = int(line.split()[1])
            elif line.startswith("READY"):
                self.ready.set()
            elif line.startswith("DONE "):
                self.done = json.loads(line[5:])
                self.processed = self.done["processed"]

    def stderr_tail(self, n: int = 3000) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()[-n:]

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Seconds until READY; raises with the peer's stderr if it exits or takes too long."""
        t0 = time.monotonic()
        while not self.ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                self.kill()
                raise RuntimeError(f"peer not ready (exit {self.proc.returncode}): {self.stderr_tail()}")
        return time.monotonic() - t0

    def expect(self, n: int) -> None:
        """Tell the peer how many events to process before it stops."""
        self._send(f"EXPECT {n}")

    def stop(self) -> None:
        """Ask the peer to stop now and write what it has."""
        self._send("STOP")

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()

    def finish(self, timeout: float) -> dict[str, Any]:
        """Wait for DONE and the exit (killing it after `timeout` s); the summary it printed."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(5)
        if self.done is None:
            raise RuntimeError(f"peer ended without DONE (exit {self.proc.returncode}): {self.stderr_tail()}")
        return self.done

    def rows(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.read_text().splitlines()]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def _broker(bootstrap: str | None) -> Iterator[str]:
    """The given broker, or a fresh Tansu for this block."""
    if bootstrap is not None:
        yield bootstrap
        return
    with TansuBroker() as b:
        yield b.bootstrap


def _fresh_topic(log: Log, engine: str, partitions: int) -> str:
    name = f"ysb-{engine}-{uuid.uuid4().hex[:8]}"
    log.ensure_topic(name, TopicConfig(partitions=partitions))  # explicit retention configs: see ysb_quix
    return name


_first_event_ms, _expected, _check = first_event_ms, expected, check  # shared with riverbed's bench


def run_peer(engine: str, rate: float, duration: float, *, seed: int = 0, bootstrap: str | None = None,
             peers_python: str = ".venv-peers/bin/python", partitions: int = 1, max_lag_s: float = 5.0,
             drain_s: float = 30.0) -> dict[str, Any]:
    """One fixed-rate run of a peer, measured like `riverbed.apps.ysb.bench.run_rate` (the same
    `paced_run`)."""
    with _broker(bootstrap) as bs, tempfile.TemporaryDirectory(prefix=f"ysb-{engine}-") as work:
        log = open_log(f"kafka://{bs}")
        try:
            topic = _fresh_topic(log, engine, partitions)
            peer = Peer(engine, peers_python, bs, topic, Path(work), YsbGenerator(seed).mapping_rows())
            try:
                ready_s = peer.wait_ready()
                run = paced_run(log, topic, rate, duration, lambda: peer.processed, seed=seed,
                                drain_s=drain_s, on_stop=peer.expect, alive=lambda: peer.proc.poll() is None)
                written = run.written
                if peer.processed < written:
                    peer.stop()  # not drained in time: take what it has (sustainable is then False)
                done = peer.finish(timeout=30)
                processed = done["processed"]
                rows = peer.rows()
            finally:
                peer.kill()
            correct, wrong = _check(rows, _expected(seed, _first_event_ms(log, topic), rate, written))
        finally:
            log.close()
    return {
        "engine": engine,
        **judge(rate=rate, duration=duration, samples=run.samples, written=written, processed=processed,
                backlog_at_stop=run.backlog_at_stop, drained=run.drained, rows=rows,
                start_ms=run.start_ms, stop_ms=run.stop_ms, max_lag_s=max_lag_s),
        "micro_batches": None,  # no micro-batches: both peers process record by record
        "driver_peak_rss_mb": done["peak_rss_mb"],  # the peer's one process (its engine runs in it)
        "jvm_peak_rss_mb": None,
        "correct": correct,
        "wrong_windows": wrong,
        "ready_s": round(ready_s, 2),
    }


def run_peer_prefill(engine: str, n: int, *, seed: int = 0, event_rate: float = 100_000.0,
                     bootstrap: str | None = None, peers_python: str = ".venv-peers/bin/python",
                     partitions: int = 1, timeout: float = 900.0) -> dict[str, Any]:
    """Write n events first (event times `event_rate`/s apart), then time the peer consuming them."""
    if n < 1:
        raise InvalidArgument(f"prefill needs at least 1 event, got {n}")
    with _broker(bootstrap) as bs, tempfile.TemporaryDirectory(prefix=f"ysb-{engine}-") as work:
        log = open_log(f"kafka://{bs}")
        try:
            topic = _fresh_topic(log, engine, partitions)
            start_ms = time.time_ns() // 1_000_000 - int(n / event_rate * 1000)
            t0 = time.monotonic()
            events = YsbGenerator(seed).events(start_ms, event_rate, n)
            while batch := list(itertools.islice(events, 10_000)):
                log.append(topic, [Record(value=e.value) for e in batch])
            write_s = time.monotonic() - t0
            peer = Peer(engine, peers_python, bs, topic, Path(work), YsbGenerator(seed).mapping_rows(),
                        expect=n, idle_timeout=60.0)
            try:
                ready_s = peer.wait_ready()
                done = peer.finish(timeout)
                rows = peer.rows()
            finally:
                peer.kill()
            correct, wrong = _check(rows, _expected(seed, start_ms, event_rate, n))
        finally:
            log.close()
    span_s = max(1, done["last_ms"] - done["first_ms"]) / 1000
    return {
        "engine": engine, "prefill": n, "write_s": round(write_s, 2), "ready_s": round(ready_s, 2),
        "events_processed": done["processed"], "first_to_last_s": round(span_s, 2),
        "events_per_s": round(done["processed"] / span_s), "correct": correct, "wrong_windows": wrong,
        "driver_peak_rss_mb": done["peak_rss_mb"], "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring); prints (or writes) one JSON document."""
    p = argparse.ArgumentParser(description="YSB on Bytewax / Quix Streams over a Tansu broker")
    p.add_argument("--engine", required=True, help="bytewax, quix, or both comma-separated")
    p.add_argument("--rates", default="5000,20000", help="events/s, comma-separated")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--prefill", type=int, default=None, help="throughput-ceiling mode: N events first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--partitions", type=int, default=1)
    p.add_argument("--peers-python", default=".venv-peers/bin/python")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    engines = a.engine.split(",")
    runs = []
    with _broker(None) as bs:
        for engine in engines:
            if a.prefill:
                runs.append(run_peer_prefill(engine, a.prefill, seed=a.seed, bootstrap=bs,
                                             peers_python=a.peers_python, partitions=a.partitions))
            else:
                for rate in (float(r) for r in a.rates.split(",")):
                    runs.append(run_peer(engine, rate, a.duration, seed=a.seed, bootstrap=bs,
                                         peers_python=a.peers_python, partitions=a.partitions))
                    print(json.dumps(runs[-1]), file=sys.stderr)
            if a.prefill:
                print(json.dumps(runs[-1]), file=sys.stderr)
    doc = {"benchmark": "ysb-peers", "broker": "tansu (in memory)", "runs": runs,
           "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}}
    text = json.dumps(doc, indent=2)
    if a.out:
        a.out.write_text(text + "\n")
    print(text)
    return 0 if all(r["correct"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
