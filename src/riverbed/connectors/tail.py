"""File tail (`tail -F`): follows appends to a file and survives log rotation.

Rotation by rename (the file is moved away and a new one created at the path): the old file is
read to its end first, then the new one from its start. Rotation by copytruncate (the file shrinks
in place): reading restarts at offset 0. A partial last line waits for its newline; it is sent as
a line only when its file is rotated away. Polls every `poll_s` (no inotify), so it works on any
filesystem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from riverbed.connectors.base import Item, LineSplitter, Source

CHUNK = 1 << 16


class TailSource(Source):
    """Yields each complete line appended to `path` (from its start if `from_start`)."""

    name = "tail"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        from_start: bool = False,
        poll_s: float = 0.1,
        max_line_bytes: int = 1 << 20,
        start_offset: int | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.from_start, self.poll_s, self.max_line_bytes = from_start, poll_s, max_line_bytes
        self._start_offset = start_offset
        self._f: BinaryIO | None = None
        self._ino: int | None = None
        self._lines = LineSplitter(max_line_bytes)
        self.rotations = 0

    def snapshot(self) -> dict[str, Any]:
        """The file, its inode, and the offset after the last line yielded (resume with start_offset)."""
        offset = self._f.tell() - len(self._lines.pending) if self._f is not None else None
        return {"path": str(self.path), "inode": self._ino, "offset": offset}

    def _open(self, at_end: bool) -> bool:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except FileNotFoundError:
            return False
        st = os.fstat(f.fileno())
        if self._start_offset is not None and self._start_offset <= st.st_size:
            f.seek(self._start_offset)
            self._start_offset = None
        elif at_end:
            f.seek(0, os.SEEK_END)
        self._f, self._ino = f, st.st_ino
        self._lines = LineSplitter(self.max_line_bytes)
        return True

    def read(self) -> Iterator[Item]:
        first = True
        try:
            while not self.stopped:
                if self._f is None:
                    # the file seen at start is followed from its end; files created later from 0
                    if not self._open(at_end=first and not self.from_start):
                        first = False
                        yield None
                        self._stop.wait(self.poll_s)
                        continue
                    first = False
                yield from self._drain()
                rotation = self._rotation()
                if rotation == "rename":
                    yield from self._drain()  # the writer may have written more before reopening
                    yield from self._lines.finish()  # the old file's unterminated last line
                    self.close()
                    self.rotations += 1
                    continue
                if rotation == "truncate":
                    assert self._f is not None
                    self._f.seek(0)
                    self._lines = LineSplitter(self.max_line_bytes)
                    self.rotations += 1
                    continue
                yield None
                self._stop.wait(self.poll_s)
            if self._f is not None:
                yield from self._drain()
        finally:
            self.close()

    def _drain(self) -> Iterator[Item]:
        """Yield every complete line readable now."""
        assert self._f is not None
        while chunk := self._f.read(CHUNK):
            yield from self._lines.feed(chunk)

    def _rotation(self) -> str | None:
        """Which rotation happened: "rename" (a new file at the path), "truncate" (it shrank), or None."""
        assert self._f is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None  # renamed away, new file not there yet: keep reading the old one
        if st.st_ino != self._ino:
            return "rename"
        if st.st_size < self._f.tell():
            return "truncate"
        return None

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
