"""`parse_line`: one log line -> time, level, component, message, format, and where the time and
level came from. The single definition of the parse, used by plain Python and (via
`arrow.parse_batches`) by Spark in stream and batch mode.

Lines in a well-known layout (formats.py: log4j, HDFS, Spark, Apache error log, BSD syslog, BGL)
are read by its exact regex, judged from the first characters; any other line by the `Detector`
(detect.py), which finds the timestamp and the stated level wherever the header puts them.

- `time_source`: "line" (the line states its time), "inferred" (the line states a time without a
  year: the year is the one nearest the log time, or `default_year`), "log" (no time in the line:
  the record's log append time is used).
- Times without a zone are read in the configured zone `tz` (default UTC); a stated zone wins.
- `level_source`: "line" (the level the line states, spelling normalised: levels.py) or "inferred"
  (the line states none: from message keywords, `level_from_content`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from riverbed.apps.logwatch import formats
from riverbed.apps.logwatch.detect import Detector
from riverbed.apps.logwatch.formats import MONTHS, Parsed
from riverbed.apps.logwatch.levels import LEVEL_NAMES, level_from_content, level_name, normalize_level
from riverbed.errors import LogParseError

FORMATS = ("hdfs", "hadoop", "spark", "apache", "syslog", "bgl", "generic", "rfc5424", "json", "continuation")
TIME_SOURCES = ("line", "inferred", "log")
LEVEL_SOURCES = ("line", "inferred")

#: (time ms or None, level, component, message, format, time_source, level_source)
Record = tuple[int | None, str, str, str, str, str, str]

__all__ = ["FORMATS", "ParsedLine", "level_from_content", "normalize_level", "parse_line", "parse_record"]


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One parsed log line. `time` is epoch milliseconds UTC; `level` is normalised (see levels.py).

    `time_source` and `level_source` say where they came from (module doc); equality compares the
    reading itself (time, level, component, message, format), not them.
    """

    time: int
    level: str
    component: str
    message: str
    format: str
    time_source: str = field(default="line", compare=False)
    level_source: str = field(default="line", compare=False)


def _known(line: str, year: int, ref: int | None) -> Parsed | None:
    """The well-known layout a line can be in, judged from its first characters, or None."""
    c = line[0]
    if c.isdigit():
        if line[2:3] == "/":
            return formats.spark(line)
        if line[4:5] == "-":
            return formats.hadoop(line)
        if line[6:7] == " ":
            return formats.hdfs(line)
    elif c == "[":
        return formats.apache(line)
    elif line[:3] in MONTHS or c == "<":
        return formats.syslog(line, year, ref)
    elif c == "-" or c.isupper():
        return formats.bgl(line)
    return None


@lru_cache(maxsize=8192)
def _zone_offset_ms(tz: str, hour: int) -> int:
    """The UTC offset of zone `tz` at a wall-clock hour (epoch hours read as UTC), in ms."""
    wall = datetime.fromtimestamp(hour * 3600, UTC).replace(tzinfo=None)
    off = wall.replace(tzinfo=ZoneInfo(tz)).utcoffset()
    return int(off.total_seconds() * 1000) if off is not None else 0


def parse_record(
    line: str,
    year: int,
    ref: int | None = None,
    *,
    tz: str = "UTC",
    detector: Detector | None = None,
    known: bool = True,
) -> Record:
    """Parse a line into a `Record`; time is None when the line states none and `ref` is None.

    `year` is for year-less stamps when there is no `ref` (the record's log time, epoch ms);
    `detector` keeps the layout learned from the source's earlier lines; `known=False` skips the
    well-known layouts (formats.py), to show the detector alone reads them too. Raises LogParseError for
    an empty line, binary data, or a line whose only stamp is an impossible date and no `ref`.
    """
    line = line.rstrip()
    if not line:
        raise LogParseError("empty line", line)
    if "\x00" in line:
        raise LogParseError("binary data (NUL bytes)", line)
    return read_record(line, year, ref, tz, detector, known)


def read_record(
    line: str, year: int, ref: int | None, tz: str, detector: Detector | None, known: bool
) -> Record:
    """`parse_record` of a line already stripped, not empty and free of NUL bytes (the fast path)."""
    invalid: LogParseError | None = None
    try:
        got = _known(line, year, ref) if known else None
    except LogParseError as e:  # a known layout with an impossible date: maybe another stamp fits
        got, invalid = None, e
    if got is not None:
        t, level, component, message, fmt = got
        zoned, yearless = fmt == "bgl", fmt == "syslog"
        if level:
            level = LEVEL_NAMES.get(level) or level_name(level)  # None: the shape, not the layout
            if level is None:  # (`2026-12-07 10:00:11.123 UTC [2345] ERROR: ...` is not log4j)
                got = None
    if got is None:
        t, zoned, yearless, level, component, message, fmt = (detector or Detector()).detect(line, year, ref)
        if level and fmt == "json":
            level = normalize_level(level)
    message = message.strip()
    if level:
        level_source = "line"
    else:
        level_source, level = "inferred", level_from_content(message)
    if t is None:
        if ref is None and invalid is not None:
            raise invalid
        return ref, level, component, message, fmt, "log", level_source
    if not zoned and tz != "UTC":
        t -= _zone_offset_ms(tz, t // 3_600_000)
    return t, level, component, message, fmt, "inferred" if yearless else "line", level_source


def parse_tuple(line: str, year: int) -> Parsed:
    """The parse as a plain tuple (time, level, component, message, format); raises LogParseError
    when the line states no time."""
    t, level, component, message, fmt, _, _ = parse_record(line, year)
    if t is None:
        raise LogParseError("no recognisable timestamp", line.rstrip())
    return t, level, component, message, fmt


def current_year() -> int:
    """The current UTC year, the default for formats that omit the year (syslog)."""
    return datetime.now(UTC).year


def parse_line(
    line: str, *, default_year: int | None = None, log_time: int | None = None, tz: str = "UTC"
) -> ParsedLine:
    """Parse one log line; raise LogParseError (short reason) if it cannot be read.

    Year-less stamps take the year nearest `log_time` (epoch ms), else `default_year`, else the
    current UTC year. A line with no time of its own gets `log_time` (time_source "log"); without
    a `log_time` it raises LogParseError("no recognisable timestamp").

    >>> parse_line("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi").level
    'INFO'
    """
    year = current_year() if default_year is None else default_year
    t, level, component, message, fmt, time_source, level_source = parse_record(line, year, log_time, tz=tz)
    if t is None:
        raise LogParseError("no recognisable timestamp", line.rstrip())
    return ParsedLine(t, level, component, message, fmt, time_source, level_source)
