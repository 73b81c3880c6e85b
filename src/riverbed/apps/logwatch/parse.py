"""`parse_line`: one log line -> time, level, component, message, format. The single definition of
the parse, used by plain Python and (via `arrow.parse_batches`) by Spark in stream and batch mode.

Dispatch looks at the first characters only, tries the one or two formats that can start that way
(see formats.py), then falls back to the generic parser (generic.py).

Level normalisation (`normalize_level`): upper-cased, then
    WARNING -> WARN;  ERR, SEVERE, FAILURE -> ERROR;  CRIT, CRITICAL, ALERT, EMERG, EMERGENCY, PANIC -> FATAL;
    INFORMATION -> INFO;  FINE, FINER, FINEST -> DEBUG;  anything else is kept upper-cased.
Lines with no level of their own (BSD syslog without `<PRI>`, generic lines without a level word)
get one from their content (`level_from_content`), case-insensitive whole words:
    ERROR if it contains error(s), fail, failed, failure(s), fatal, panic, critical, exception, segfault;
    else WARN if it contains warn, warning, invalid, refused, denied, break-in, illegal, unauthorized,
        timeout, timed out, unknown;
    else INFO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from riverbed.apps.logwatch import formats
from riverbed.apps.logwatch.formats import MONTHS, Parsed
from riverbed.apps.logwatch.generic import generic
from riverbed.errors import LogParseError

FORMATS = ("hdfs", "hadoop", "spark", "apache", "syslog", "bgl", "generic")

_LEVEL_ALIASES = {
    "WARNING": "WARN",
    "ERR": "ERROR",
    "SEVERE": "ERROR",
    "FAILURE": "ERROR",
    "CRIT": "FATAL",
    "CRITICAL": "FATAL",
    "ALERT": "FATAL",
    "EMERG": "FATAL",
    "EMERGENCY": "FATAL",
    "PANIC": "FATAL",
    "INFORMATION": "INFO",
    "FINE": "DEBUG",
    "FINER": "DEBUG",
    "FINEST": "DEBUG",
}
_ERROR_WORDS = re.compile(
    r"\b(?:errors?|fail|failed|failures?|fatal|panic|critical|exception|segfault)\b", re.I
)
_WARN_WORDS = re.compile(
    r"\b(?:warn|warning|invalid|refused|denied|break-in|illegal|unauthori[sz]ed|timeout|timed out|unknown)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One parsed log line. `time` is epoch milliseconds UTC; `level` is normalised (see module doc)."""

    time: int
    level: str
    component: str
    message: str
    format: str


def normalize_level(level: str) -> str:
    """Upper-case a level word and map its aliases (WARNING -> WARN, SEVERE -> ERROR, ...)."""
    up = level.upper()
    return _LEVEL_ALIASES.get(up, up)


def level_from_content(message: str) -> str:
    """ERROR / WARN / INFO from keywords in the message, for lines that carry no level."""
    if _ERROR_WORDS.search(message):
        return "ERROR"
    if _WARN_WORDS.search(message):
        return "WARN"
    return "INFO"


def _dispatch(line: str, year: int) -> Parsed | None:
    """Try the formats a line can be in, judged from its first characters, then the generic one."""
    c = line[0]
    got: Parsed | None = None
    if c.isdigit():
        if line[2:3] == "/":
            got = formats.spark(line)
        elif line[4:5] == "-":
            got = formats.hadoop(line)
        elif line[6:7] == " ":
            got = formats.hdfs(line)
    elif c == "[":
        got = formats.apache(line)
    elif line[:3] in MONTHS or c == "<":
        got = formats.syslog(line, year)
    elif c == "-" or c.isupper():
        got = formats.bgl(line)
    return got if got is not None else generic(line, year)


def parse_tuple(line: str, year: int) -> Parsed:
    """The parse as a plain tuple (time, level, component, message, format): the fast inner path."""
    line = line.rstrip()
    if not line:
        raise LogParseError("empty line", line)
    if "\x00" in line:
        raise LogParseError("binary data (NUL bytes)", line)
    got = _dispatch(line, year)
    if got is None:
        raise LogParseError("no recognisable timestamp", line)
    t, level, component, message, fmt = got
    message = message.strip()
    level = normalize_level(level) if level else level_from_content(message)
    return t, level, component, message, fmt


def current_year() -> int:
    """The current UTC year, the default for formats that omit the year (syslog)."""
    return datetime.now(UTC).year


def parse_line(line: str, *, default_year: int | None = None) -> ParsedLine:
    """Parse one log line; raise LogParseError (short reason) if it has no recognisable timestamp.

    `default_year` is used for formats without a year (syslog); default: the current UTC year.

    >>> parse_line("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi").level
    'INFO'
    """
    year = current_year() if default_year is None else default_year
    return ParsedLine(*parse_tuple(line, year))
