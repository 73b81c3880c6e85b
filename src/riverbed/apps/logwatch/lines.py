"""Log lines as the connectors' callers see them: which loghub format, event time, level, component.

A thin view over logwatch's parser (`parse.py`), the one definition of how riverbed reads log
lines, so a replayed line's event time (`riverbed ingest replay --log-times` hands `event_time` to
the generic `ReplaySource`), the synthetic generator's self-check and the logwatch pipeline always
agree. Syslog lines are told apart as "linux" or "openssh" here, the formats the synthetic
generator (`riverbed.connectors.synthetic`) writes.

    >>> parse_line("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn").level
    'INFO'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from riverbed.apps.logwatch.detect import Detector
from riverbed.apps.logwatch.parse import current_year, parse_record
from riverbed.apps.logwatch.parse import parse_line as _parse
from riverbed.errors import LogParseError


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """A log line split into its parts; `time_ms` is the event time in epoch ms (UTC)."""

    format: str
    time_ms: int
    level: str
    component: str
    message: str


def parse_line(line: str | bytes, *, year: int | None = None) -> ParsedLine | None:
    """Parse one log line; None if it states no time (or is empty or binary).

    Syslog lines have no year: `year` (default: the current UTC year) is used.
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    try:
        p = _parse(line.rstrip("\r\n"), default_year=year)
    except LogParseError:
        return None
    fmt = p.format
    if fmt == "syslog":
        fmt = "openssh" if p.component == "sshd" else "linux"
    return ParsedLine(fmt, p.time, p.level, p.component, p.message)


def event_time(line: str | bytes) -> int | None:
    """The event time (epoch ms) a log line states, else None (no layout learned: one line alone)."""
    parsed = parse_line(line)
    return parsed.time_ms if parsed else None


def event_times(year: int | None = None) -> Callable[[str | bytes], int | None]:
    """`event_time` for the lines of one file, in order: the file's layout is learned from its first
    lines (a `Detector`) and reused, so each next line costs one compiled regex."""
    detector, y = Detector(), current_year() if year is None else year

    def time_of(line: str | bytes) -> int | None:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        try:
            rec = parse_record(line, y, detector=detector)
        except LogParseError:
            return None
        return rec[0]

    return time_of
