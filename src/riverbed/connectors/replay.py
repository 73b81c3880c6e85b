"""Replay a recorded file (JSON lines or text logs, optionally .gz) as if it were arriving now.

Event times come from `time_field` (JSON lines: one or more dotted paths, the first present
wins; epoch s or ms, or ISO-8601), or from `event_time(line)` for text (e.g. logwatch's
`riverbed.apps.logwatch.lines.event_time`). A line without one gets the previous line's time
(so order is kept), or the replay time before any. `speed` paces by the recorded gaps divided by `speed` (gaps
capped at `max_gap_s`); `rebase` shifts times so the first record is "now" (keeping the gaps),
which a looped replay needs to keep time moving forward. Pacing at N records/s is the `Ingestor`'s `rate`.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riverbed.connectors.base import Item, Source
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record, now_ms

EPOCH_S_MAX = 10**11  # numbers below this are epoch seconds, above it epoch milliseconds


def parse_time(value: Any) -> int | None:
    """Epoch ms from epoch seconds/ms (number or digits) or an ISO-8601 string; None if neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value * 1000) if abs(value) < EPOCH_S_MAX else int(value)
    if isinstance(value, str):
        s = value.strip()
        try:
            return parse_time(float(s))
        except ValueError:
            pass
        try:
            d = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return int(d.timestamp() * 1000)
    return None


def json_time(paths: Sequence[str]) -> Callable[[bytes], int | None]:
    """An event-time extractor for JSON lines: the first of `paths` ("a.b" = nested) present."""
    split = [p.split(".") for p in paths]

    def extract(line: bytes) -> int | None:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return None
        for parts in split:
            v: Any = obj
            for part in parts:
                v = v.get(part) if isinstance(v, dict) else None
            t = parse_time(v)
            if t is not None and t > 0:  # 0 means "not yet" in many formats (e.g. Finish Time)
                return t
        return None

    return extract


class ReplaySource(Source):
    """Yields each line of `path` as a Record with its event time, paced by `speed`, `loop`ing."""

    name = "replay"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        time_field: str | Sequence[str] | None = None,
        event_time: Callable[[bytes], int | None] | None = None,
        speed: float | None = None,
        loop: bool = False,
        rebase: bool = False,
        max_gap_s: float = 60.0,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidArgument(f"replay file {self.path} does not exist", hint="give a recorded file")
        if speed is not None and speed <= 0:
            raise InvalidArgument(f"speed must be > 0, got {speed}", hint="e.g. --speed 10x")
        if time_field is not None:
            fields = [time_field] if isinstance(time_field, str) else list(time_field)
            event_time = json_time([f.strip() for part in fields for f in part.split(",") if f.strip()])
        self.event_time, self.speed, self.loop, self.rebase = event_time, speed, loop, rebase
        self.max_gap_s = max_gap_s
        self.passes = 0
        self.lines = 0  # lines yielded in the current pass (resume point)

    def snapshot(self) -> dict[str, Any]:
        return {"path": str(self.path), "pass": self.passes, "line": self.lines}

    def _open(self):
        if self.path.suffix == ".gz":
            return gzip.open(self.path, "rb")
        return open(self.path, "rb")

    def read(self) -> Iterator[Item]:
        shift = 0  # added to recorded times (rebase)
        while not self.stopped:
            self.lines = 0
            first_rec: int | None = None
            prev_rec: int | None = None
            wall0, offset_s = time.monotonic(), 0.0
            last_t: int | None = None
            pass_start = now_ms()
            with self._open() as f:
                for raw in f:
                    if self.stopped:
                        return
                    line = raw.rstrip(b"\n").rstrip(b"\r")
                    if not line:
                        continue
                    t = self.event_time(line) if self.event_time else None
                    if t is not None:
                        if first_rec is None:
                            first_rec = t
                            shift = pass_start - t if self.rebase else 0
                        if self.speed and prev_rec is not None:
                            gap_s = min(max(0, t - prev_rec) / 1000, self.max_gap_s)
                            offset_s += gap_s / self.speed
                            yield from self._pace(wall0 + offset_s)
                            if self.stopped:
                                return
                        prev_rec = t
                        last_t = t + shift
                    ts = last_t if last_t is not None else now_ms()
                    self.lines += 1
                    yield Record(line, timestamp=ts)
            self.passes += 1
            if not self.loop:
                return
            if self.lines == 0:
                raise InvalidArgument(f"replay file {self.path} has no lines to loop over")

    def _pace(self, target: float) -> Iterator[Item]:
        """Sleep until monotonic time `target`, yielding an idle every 0.2 s so flushes go on."""
        while not self.stopped:
            left = target - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, 0.2))
            yield None
