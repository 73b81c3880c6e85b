"""Helpers for fault tests: a small tmpfs to fill up, and reading what a child process acknowledged.

    >>> with small_tmpfs(Path("/tmp/disk"), "3m") as disk:      # doctest: +SKIP  (root only)
    ...     log = open_log(f"embedded://{disk}/log")
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from riverbed.errors import RiverbedError


class FaultSetupError(RiverbedError):
    """A fault could not be set up here (not root, no tmpfs): the test should be skipped."""


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` (e.g. "3m") at `path` (created) for the block, unmounted after.

    Needs root; raises FaultSetupError when not root or when the mount fails.
    """
    if os.geteuid() != 0:
        raise FaultSetupError("mounting a tmpfs needs root", hint="run the tests as root")
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise FaultSetupError(f"cannot mount a tmpfs at {path}: {res.stderr.strip() or res.returncode}",
                              hint="the container may lack CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def resize_tmpfs(path: Path, size: str) -> None:
    """Grow (or shrink) the tmpfs mounted at `path` to `size`: space returns to a full disk."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True, capture_output=True)


def wait_lines(proc: subprocess.Popen, buf: bytearray, want: int, timeout: float) -> None:
    """Add what the running child writes on stdout to `buf` until it holds `want` lines, it exits,
    or `timeout` s pass."""
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    deadline = time.monotonic() + timeout
    while buf.count(b"\n") < want and proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(BlockingIOError):
            buf += os.read(fd, 1 << 16)
        time.sleep(0.01)


def read_rest(proc: subprocess.Popen, buf: bytearray) -> list[str]:
    """Add the rest of a dead child's stdout to `buf` (to EOF); its complete lines (a line cut short
    by a kill is dropped: it acknowledges nothing)."""
    fd = proc.stdout.fileno()
    os.set_blocking(fd, True)
    while chunk := os.read(fd, 1 << 16):
        buf += chunk
    text = buf.decode(errors="replace")
    return text[: text.rfind("\n") + 1].splitlines()
