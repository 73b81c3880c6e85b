"""Freeze a broker at an exact moment of a stream's life, through the source's fault points.

    >>> with FreezeAt(broker, "latestOffset", nth=3, folder=tmp_path) as moment:   # doctest: +SKIP
    ...     query = reader.option("faultHook", moment.plan).load()...start()
    ...     moment.wait_waits(1)       # the source reached its 3rd latestOffset, met the frozen
    ...     moment.thaw()              # broker and is waiting for it: now let the broker go

The plan file names `freeze_at` as the source's hook (riverbed.spark.faulthook). It runs in the
source's own processes (the driver's source worker, the executors), which count the calls to the
chosen point in a file under a lock and SIGSTOP the broker's process group on the nth; every retry
wait of the source is appended to another file, so the test thaws only once the source waited.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from riverbed.testing.broker import TansuBroker


def _bump(path: Path, line: str) -> int:
    """Append `line` to `path` under an exclusive lock; the number of lines it then holds."""
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line + "\n")
        f.flush()
        f.seek(0)
        return len(f.read().splitlines())


def freeze_at(plan: dict[str, Any], event: str, what: str) -> None:
    """The source's hook: freeze the broker at the plan's nth call to its point; record waits."""
    folder = Path(plan["folder"])
    if event == "wait":
        _bump(folder / "waits", what)
    elif event == "call" and what == plan["at"] and _bump(folder / "calls", what) == plan["nth"]:
        os.killpg(plan["pid"], signal.SIGSTOP)
        (folder / "frozen").write_text(what)


class FreezeAt:
    """A plan freezing `broker` at the `nth` call of the source's `at` (option faultHook = `plan`)."""

    def __init__(self, broker: TansuBroker, at: str, nth: int, folder: Path) -> None:
        self.broker, self.folder = broker, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.plan = str(folder / "plan.json")
        spec = {"hook": f"{__name__}:freeze_at", "at": at, "nth": nth, "pid": broker.pid,
                "folder": str(folder)}
        Path(self.plan).write_text(json.dumps(spec))

    @property
    def frozen(self) -> bool:
        """Whether the source reached the moment and froze the broker."""
        return (self.folder / "frozen").exists()

    def waits(self) -> list[str]:
        """What the source was doing at each retry wait so far."""
        path = self.folder / "waits"
        return path.read_text().splitlines() if path.exists() else []

    def wait_waits(self, n: int = 1, timeout: float = 120.0) -> list[str]:
        """Block until the broker is frozen and the source has waited `n` times (or `timeout` s)."""
        deadline = time.monotonic() + timeout
        while not (self.frozen and len(self.waits()) >= n) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.waits()

    def thaw(self) -> None:
        """Let the broker go (SIGCONT; harmless if it was never frozen)."""
        with contextlib.suppress(ProcessLookupError):
            self.broker.thaw()

    def __enter__(self) -> FreezeAt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.thaw()
