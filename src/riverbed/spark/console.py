"""The driver JVM's console output, passed through whole except one known piece of worker noise.

Why: Spark keeps pools of Python worker processes (pyspark's daemon.py forks them; the JVM copies
their stderr to its own). When the JVM closes a pooled worker's socket (an idle worker when the
SparkContext stops, or one whose task Spark abandoned), the worker reads end-of-stream, tries to
report that back over the socket it just lost and fails: pyspark's daemon prints a
"BrokenPipeError: [Errno 32] Broken pipe" traceback whose every frame is in daemon.py. Nothing is
lost with it (nobody is left to read that worker), so the JVM's stderr is read here and that exact
traceback is dropped; every other line, tracebacks included, is written out unchanged.
(`riverbed.spark.daemon` keeps the task workers quiet at the source; this covers the daemons of
Spark's own planner workers, which that setting does not reach.)
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark import SparkConf

TRACEBACK = b"Traceback (most recent call last):"
NOISE_ERROR = b"BrokenPipeError: [Errno 32] Broken pipe"
NOISE_FILE = b"pyspark/daemon.py"


def launch_gateway(conf: SparkConf) -> None:
    """Start the driver JVM for `conf` with its stderr read by `forward` (PySpark then uses it)."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway as launch

    with SparkContext._lock:
        if SparkContext._gateway:
            return
        gateway = launch(conf, popen_kwargs={"stderr": subprocess.PIPE})
        threading.Thread(target=forward, args=(gateway.proc.stderr, 2), name="riverbed-jvm-stderr",
                         daemon=True).start()
        SparkContext._gateway = gateway
        SparkContext._jvm = gateway.jvm


def forward(stream: IO[bytes], fd: int) -> None:
    """Copy `stream` to file descriptor `fd` line by line, without daemon.py's BrokenPipe tracebacks."""
    block: list[bytes] = []
    for line in stream:
        if block:
            block.append(line)
            if line[:1] not in (b" ", b"\t"):  # the exception line ends a traceback
                if not is_noise(block):
                    _write(fd, b"".join(block))
                block = []
        elif line.startswith(TRACEBACK):
            block = [line]
        else:
            _write(fd, line)
    if block:
        _write(fd, b"".join(block))


def is_noise(block: list[bytes]) -> bool:
    """Whether a traceback is the daemon's own BrokenPipe on a worker socket the JVM closed."""
    frames = [x for x in block if x.lstrip().startswith(b'File "')]
    return (block[-1].rstrip() == NOISE_ERROR and bool(frames)
            and all(NOISE_FILE in x for x in frames))


def _write(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`, ignoring a closed terminal (the process is ending then)."""
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass
