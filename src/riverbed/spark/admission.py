"""Admission control a running stream can change: the driver writes a small JSON file, the log
source reads it before each micro-batch.

Spark fixes a query's trigger interval and maxRecordsPerTrigger when it starts. riverbed's
latency-target mode runs the query back to back (trigger 0) and lets its controller decide, batch by
batch, when the next micro-batch may start (`not_before_ms`) and how many records it may take
(`max_records`). The stream reader lives in a Python process of its own, so the decision travels
through a file, re-read only when it changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_admission(path: str | Path, *, max_records: int | None, not_before_ms: int | None) -> None:
    """Publish the next decision atomically (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"max_records": max_records, "not_before_ms": not_before_ms}))
    os.replace(tmp, path)


class AdmissionFile:
    """The reader's side: the latest decision, re-parsed only when the file changed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._value: tuple[int | None, int | None] = (None, None)

    def current(self) -> tuple[int | None, int | None]:
        """(max_records, not_before_ms); (None, None) while there is no decision yet."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return (None, None)
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                d = json.loads(Path(self.path).read_text())
                self._value = (d.get("max_records"), d.get("not_before_ms"))
                self._stamp = stamp
            except (OSError, ValueError):  # being replaced right now: keep the last decision
                pass
        return self._value
