"""The driver JVM's stderr filter drops exactly pyspark daemon.py's BrokenPipe traceback, nothing else."""

from __future__ import annotations

import io
import os

from riverbed.spark.console import forward

DAEMON = "/venv/pyspark/python/lib/pyspark.zip/pyspark/daemon.py"
NOISE = (f'Traceback (most recent call last):\n  File "{DAEMON}", line 264, in manager\n'
         f'  File "{DAEMON}", line 95, in worker\nBrokenPipeError: [Errno 32] Broken pipe\n')
REAL = ('Traceback (most recent call last):\n  File "/app/shop.py", line 3, in parse\n'
        '    return int(x)\nValueError: invalid literal\n')
SAME_ERROR_ELSEWHERE = ('Traceback (most recent call last):\n  File "/app/io.py", line 9, in send\n'
                        'BrokenPipeError: [Errno 32] Broken pipe\n')


def filtered(text: str) -> str:
    read, write = os.pipe()
    forward(io.BytesIO(text.encode()), write)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        return f.read().decode()


def test_only_the_daemons_broken_pipe_traceback_is_dropped() -> None:
    text = "26/12/07 WARN a warning\n" + NOISE + REAL + NOISE + SAME_ERROR_ELSEWHERE + "last line\n"
    assert filtered(text) == "26/12/07 WARN a warning\n" + REAL + SAME_ERROR_ELSEWHERE + "last line\n"


def test_a_traceback_cut_off_at_the_end_is_kept() -> None:
    cut = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
    assert filtered("a\n" + cut) == "a\n" + cut
