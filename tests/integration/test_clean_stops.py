"""Every long-running command stops cleanly: SIGINT exits 130, SIGTERM 143, --duration's end 0, with
at most one line about the stop and no traceback, py4j or BrokenPipeError noise.

Each command runs as a real process (`python -m riverbed` with its own home); the test waits for
a line showing it really runs (never a sleep), sends the signal and reads everything after it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from riverbed.log import Record, TopicConfig, open_log

ROOT = Path(__file__).resolve().parents[2]
HADOOP = ROOT / "tests" / "data" / "logs" / "loghub" / "Hadoop_2k.log"
NOISE = ("Traceback", "py4j", "Py4J", "BrokenPipeError", "CANNOT_OPEN_SOCKET")
SPARK_START_S = 600  # a loaded 2-core machine can take minutes to start Spark and run batch 0


class Proc:
    """A riverbed process whose stdout and stderr lines are collected as they come."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {**os.environ, "RIVERBED_JARS": "none", "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen([sys.executable, "-m", "riverbed", "--home", str(home), *args],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        self.readers = [threading.Thread(target=self._read, args=(name,), daemon=True)
                        for name in ("stdout", "stderr")]
        for t in self.readers:
            t.start()

    def _read(self, name: str) -> None:
        """Queue each line of the process's `name` stream, to its end."""
        for line in getattr(self.popen, name):
            self.lines.put((name, line))

    def wait_for(self, stream: str, pattern: str, timeout: float) -> None:
        """Block until a line of `stream` matches `pattern` (fails if the process ends first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=1.0)
            except queue.Empty:
                assert self.popen.poll() is None, f"ended with {self.popen.returncode}:\n{self.text()}"
                continue
            self.seen.append(item)
            if item[0] == stream and re.search(pattern, item[1]):
                return
        raise AssertionError(f"no {stream} line matching {pattern!r} in {timeout}s:\n{self.text()}")

    def stop(self, sig: int | None, timeout: float = 180) -> list[str]:
        """Send `sig` (None: let it end by itself), wait for the exit; the lines printed after."""
        mark = len(self.seen)
        if sig is not None:
            self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout=timeout)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
        for t in self.readers:  # to the pipes' end: a child that outlives the process writes there too
            t.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return [line for _, line in self.seen[mark:]]

    def text(self) -> str:
        return "".join(f"{n}: {x}" for n, x in self.seen)[-4000:]


def check_clean(after: list[str], proc: Proc) -> None:
    """No noise after the stop, and at most one line about it."""
    text = "".join(after)
    for word in NOISE:
        assert word not in text, f"{word!r} after the stop:\n{text[-4000:]}"
    stops = [line for line in after if re.search(r"\bstop", line, re.IGNORECASE)]
    assert len(stops) <= 1, stops


def expected(sig: int) -> int:
    return {signal.SIGINT: 130, signal.SIGTERM: 143}[sig]


def logs_topic(home: Path, partitions: int = 2) -> None:
    """Topic `logs` holding Hadoop's 2,000 real log lines."""
    with open_log(home=home) as log:
        log.create_topic("logs", TopicConfig(partitions=partitions))
        log.append_values("logs", HADOOP.read_bytes().splitlines())


# -- the log-only commands (no JVM): cheap ---------------------------------------------------------

LOG_ONLY = {
    "ingest-synthetic": (["ingest", "synthetic-logs", "t", "--rate", "200/s"], "stderr", r"^ingest "),
    "ingest-socket": (["ingest", "socket", "t", "--port", "0"], "stderr", r"listening on"),
    "ingest-tail": (["ingest", "tail", "{file}", "t"], "stderr", r"^ingest "),
    "ingest-replay": (["ingest", "replay", str(HADOOP), "t", "--rate", "50/s", "--loop"], "stderr",
                      r"^ingest "),
    "consume-follow": (["consume", "t0", "--follow"], "stdout", r"^first$"),
    "serve": (["serve", "--port", "0"], "stderr", r"^Ctrl-C stops"),
}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("name", list(LOG_ONLY))
def test_log_only_commands_stop_cleanly(tmp_path: Path, name: str, sig: int) -> None:
    args, stream, ready = LOG_ONLY[name]
    tailed = tmp_path / "tailed.log"
    tailed.write_text("one\n")
    with open_log(home=tmp_path) as log:
        log.create_topic("t0", TopicConfig(partitions=1))
        log.append("t0", [Record(b"first")])
    proc = Proc(tmp_path, *[a.format(file=tailed) for a in args])
    proc.wait_for(stream, ready, timeout=120)
    after = proc.stop(sig)
    assert proc.popen.returncode == expected(sig), proc.text()
    check_clean(after, proc)
    assert f"riverbed: stopped by {signal.Signals(sig).name}\n" in after


def test_ingest_duration_ends_with_status_0(tmp_path: Path) -> None:
    proc = Proc(tmp_path, "ingest", "synthetic-logs", "t", "--rate", "100/s", "--duration", "1")
    proc.wait_for("stderr", r"^ingest ", timeout=120)
    after = proc.stop(None)
    assert proc.popen.returncode == 0, proc.text()
    check_clean(after, proc)
    assert not any("stopped by" in line for line in after)


# -- the commands that start Spark: each costs a JVM, so a few ------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_stream_stops_cleanly_after_a_committed_batch(tmp_path: Path, sig: int) -> None:
    logs_topic(tmp_path)
    proc = Proc(tmp_path, "run", "logwatch", "--mode", "stream")
    proc.wait_for("stderr", r"^batch 0: 2000 records", timeout=SPARK_START_S)
    after = proc.stop(sig)
    assert proc.popen.returncode == expected(sig), proc.text()
    check_clean(after, proc)
    # the last micro-batch is committed: a restart has nothing left to do
    from riverbed.store import open_store

    assert open_store(home=tmp_path).last_batch("logwatch") == 0


def test_demo_duration_ends_with_status_0_and_no_noise(tmp_path: Path) -> None:
    proc = Proc(tmp_path, "demo", "--duration", "5", "--no-dashboard", "--history", "0", "--rate", "100/s")
    proc.wait_for("stderr", r"starting Spark", timeout=120)
    after = proc.stop(None, timeout=SPARK_START_S)
    assert proc.popen.returncode == 0, proc.text()
    check_clean(after, proc)
    assert any(line.startswith("demo ran ") for line in after), proc.text()
