"""Parse server log lines in the loghub formats: which format, event time, level, component.

Formats (see shared/data SOURCES.md 1a): HDFS `yyMMdd HHmmss pid LEVEL component: msg`, Hadoop
log4j `yyyy-MM-dd HH:mm:ss,SSS LEVEL [thread] class: msg`, Spark `yy/MM/dd HH:mm:ss LEVEL class: msg`,
Apache error log `[Sun Dec 04 04:47:44 2005] [level] msg`, and syslog (Linux, OpenSSH)
`Mon dd HH:mm:ss host proc[pid]: msg`. Times are read as UTC. Syslog lines carry no level: it is
inferred from the message (failures and "invalid" → WARN, errors → ERROR, else INFO).

    >>> parse_line("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn").level
    'INFO'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

FORMATS = ("hdfs", "hadoop", "spark", "apache", "linux", "openssh")

_HDFS = re.compile(r"^(\d{6} \d{6}) (\d+) ([A-Z]+) ([\w.$]+): (.*)$")
_HADOOP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ([A-Z]+) \[(.*?)\] ([\w.$]+): (.*)$")
_SPARK = re.compile(r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) ([A-Z]+) ([\w.$]+): (.*)$")
_APACHE = re.compile(r"^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\] \[(\w+)\] (.*)$")
_SYSLOG = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\[:]+?)(?:\[(\d+)\])?: (.*)$")
_SYSLOG_ERROR = re.compile(r"error|fatal|panic|abnormally|segfault|out of memory", re.I)
_SYSLOG_WARN = re.compile(r"fail|invalid|denied|refused|break-in|unknown|illegal|timeout", re.I)
_LEVELS = {"WARNING": "WARN", "CRIT": "FATAL", "CRITICAL": "FATAL", "EMERG": "FATAL", "ALERT": "FATAL"}


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """A log line split into its parts; `time_ms` is the event time in epoch ms (UTC)."""

    format: str
    time_ms: int
    level: str
    component: str
    message: str


def _ms(text: str, fmt: str) -> int:
    return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp() * 1000)


def normalize_level(level: str) -> str:
    """Upper-case level names, with WARNING → WARN and syslog's crit/alert/emerg → FATAL."""
    up = level.upper()
    return _LEVELS.get(up, up)


def syslog_level(message: str) -> str:
    """A level for a syslog message, which has none: ERROR, WARN or INFO by its words."""
    if _SYSLOG_ERROR.search(message):
        return "ERROR"
    if _SYSLOG_WARN.search(message):
        return "WARN"
    return "INFO"


def parse_line(line: str | bytes, *, year: int | None = None) -> ParsedLine | None:
    """Parse one line in any supported format; None if it matches none (or its time is invalid).

    Syslog lines have no year: `year` (default: the current UTC year) is used.
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.rstrip("\r\n")
    try:
        if m := _HADOOP.match(line):
            t = _ms(m[1], "%Y-%m-%d %H:%M:%S,%f")
            return ParsedLine("hadoop", t, normalize_level(m[2]), m[4], m[5])
        if m := _HDFS.match(line):
            return ParsedLine("hdfs", _ms(m[1], "%y%m%d %H%M%S"), normalize_level(m[3]), m[4], m[5])
        if m := _SPARK.match(line):
            return ParsedLine("spark", _ms(m[1], "%y/%m/%d %H:%M:%S"), normalize_level(m[2]), m[3], m[4])
        if m := _APACHE.match(line):
            t = _ms(" ".join(m[1].split()), "%a %b %d %H:%M:%S %Y")
            module = re.match(r"mod_\w+", m[3])
            return ParsedLine("apache", t, normalize_level(m[2]), module[0] if module else "httpd", m[3])
        if m := _SYSLOG.match(line):
            y = year or datetime.now(UTC).year
            t = _ms(f"{y} {' '.join(m[1].split())}", "%Y %b %d %H:%M:%S")
            fmt = "openssh" if m[3] == "sshd" else "linux"
            return ParsedLine(fmt, t, syslog_level(m[5]), m[3], m[5])
    except ValueError:
        return None
    return None


def event_time(line: str | bytes) -> int | None:
    """The event time (epoch ms) of a log line in a supported format, else None."""
    parsed = parse_line(line)
    return parsed.time_ms if parsed else None
