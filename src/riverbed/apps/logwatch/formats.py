"""The log-line formats logwatch recognises: one precompiled regex and one small function each.

Every function takes a line (trailing whitespace already stripped) and returns the tuple
`(time_ms, level, component, message, format)`, or `None` when the line is not in its format.
`level` is returned raw here; `parse.py` normalises it. Times without a zone are read as UTC.

- hdfs: `081109 203615 148 INFO dfs.DataNode$PacketResponder: msg`; component = text before `: `.
- hadoop (log4j): `2015-10-18 18:01:47,978 INFO [main] org.apache...MRAppMaster: msg`; component =
  the class (the thread is dropped).
- spark: `17/06/09 20:10:40 INFO spark.SecurityManager: msg`; component = the class.
- apache (error log): `[Sun Dec 04 04:47:44 2005] [error] msg`; component is always `apache`.
- syslog (BSD, RFC 3164): `Dec 10 06:55:46 LabSZ sshd[24200]: msg`, optional `<PRI>` prefix;
  component = the process name (`sshd`, `sshd(pam_unix)`, `kernel`), `-` when there is none.
- bgl (Blue Gene/L RAS): `- 1117838570 2005.06.03 node 2005-06-03-15.42.50.675872 node RAS KERNEL INFO msg`;
  component = `KERNEL`/`APP`/`MMCS`/..., level = the level field.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from riverbed.errors import LogParseError

Parsed = tuple[int, str, str, str, str]

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=4096)
def _day_ms(year: int, month: int, day: int) -> int:
    """Milliseconds from the epoch to midnight UTC of a date (cached: log lines share few dates)."""
    try:
        return (date(year, month, day).toordinal() - _EPOCH_ORDINAL) * 86_400_000
    except ValueError:
        raise LogParseError(f"invalid date {year:04d}-{month:02d}-{day:02d}") from None


def epoch_ms(year: int, month: int, day: int, hh: int, mm: int, ss: int, ms: int = 0) -> int:
    """Epoch milliseconds (UTC) of a wall-clock time read as UTC; invalid fields raise LogParseError."""
    if hh > 23 or mm > 59 or ss > 60:
        raise LogParseError(f"invalid time {hh:02d}:{mm:02d}:{ss:02d}")
    return _day_ms(year, month, day) + ((hh * 60 + mm) * 60 + ss) * 1000 + ms


_FUTURE_MS = 31 * 86_400_000
_SKEW_MS = 86_400_000


_YEARS: dict[int, int] = {}


def year_of(ms: int) -> int:
    """The UTC year of an epoch-ms time (cached per day: a source's lines share few days)."""
    day = ms // 86_400_000
    y = _YEARS.get(day)
    if y is None:
        if len(_YEARS) > 4096:
            _YEARS.clear()
        y = _YEARS[day] = date.fromordinal(_EPOCH_ORDINAL + day).year
    return y


def yearless_ms(year: int, ref: int | None, mo: int, d: int, h: int, mi: int, s: int, ms: int) -> int:
    """Epoch ms of a year-less stamp, in `year` (the year of `ref`, the log time, when given).

    A log line is not written after it is logged: a stamp more than 31 days after `ref` is from
    the year before (a Dec 31 line logged on Jan 1); one within a day before the next year's turn
    is from the next year (a Jan 1 line logged a second before midnight, by a skewed clock).
    """
    if ref is not None:
        year = year_of(ref)
    t = epoch_ms(year, mo, d, h, mi, s, ms)
    if ref is not None:
        if t - ref > _FUTURE_MS:
            return epoch_ms(year - 1, mo, d, h, mi, s, ms)
        if mo == 1 and ref - t > 300 * 86_400_000:
            nxt = epoch_ms(year + 1, mo, d, h, mi, s, ms)
            if nxt - ref <= _SKEW_MS:
                return nxt
    return t


def _year2(yy: str) -> int:
    """Two-digit year: 70-99 -> 19xx, else 20xx (as POSIX strptime %y does)."""
    y = int(yy)
    return y + (1900 if y >= 70 else 2000)


_HDFS = re.compile(r"(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d) (\d+) ([A-Za-z]+) (\S+?): ?(.*)", re.S)


def hdfs(line: str) -> Parsed | None:
    """`yyMMdd HHmmss pid LEVEL component: content` (HDFS DataNode/NameNode)."""
    m = _HDFS.fullmatch(line)
    if m is None:
        return None
    y, mo, d, h, mi, s, _pid, lvl, comp, msg = m.groups()
    return epoch_ms(_year2(y), int(mo), int(d), int(h), int(mi), int(s)), lvl, comp, msg, "hdfs"


_HADOOP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)[,.](\d{3}) ([A-Za-z]+) +\[([^\]]*)\] (\S+?): ?(.*)", re.S
)


def hadoop(line: str) -> Parsed | None:
    """log4j `yyyy-MM-dd HH:mm:ss,SSS LEVEL [thread] class: msg` (Hadoop, and most Java servers)."""
    m = _HADOOP.fullmatch(line)
    if m is None:
        return None
    y, mo, d, h, mi, s, ms, lvl, _thread, comp, msg = m.groups()
    return epoch_ms(int(y), int(mo), int(d), int(h), int(mi), int(s), int(ms)), lvl, comp, msg, "hadoop"


_SPARK = re.compile(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) ([A-Za-z]+) (\S+?): ?(.*)", re.S)


def spark(line: str) -> Parsed | None:
    """Spark's default log4j layout `yy/MM/dd HH:mm:ss LEVEL class: msg`."""
    m = _SPARK.fullmatch(line)
    if m is None:
        return None
    y, mo, d, h, mi, s, lvl, comp, msg = m.groups()
    return epoch_ms(_year2(y), int(mo), int(d), int(h), int(mi), int(s)), lvl, comp, msg, "spark"


_APACHE = re.compile(
    r"\[\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4})\] \[(\w+)\] ?(.*)", re.S
)


def apache(line: str) -> Parsed | None:
    """Apache httpd error log `[Sun Dec 04 04:47:44 2005] [level] msg`; component is `apache`."""
    m = _APACHE.fullmatch(line)
    if m is None or m.group(1) not in MONTHS:
        return None
    mon, d, h, mi, s, frac, y, lvl, msg = m.groups()
    ms = int((frac + "00")[:3]) if frac else 0
    return epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), ms), lvl, "apache", msg, "apache"


_SYSLOG = re.compile(
    r"(?:<(\d{1,3})>)?(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) +"
    r"(?:([^\[:]*?)(?:\[(\d+)\])?: ?)?(.*)",
    re.S,
)
#: syslog PRI severity (0..7) -> level, RFC 5424 section 6.2.1.
SYSLOG_SEVERITY = ("FATAL", "FATAL", "FATAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")


def syslog(line: str, year: int, ref: int | None = None) -> Parsed | None:
    """BSD syslog `Mon dd HH:mm:ss host proc[pid]: msg` (RFC 3164, no year: the one nearest `ref`,
    the log time, else `year`).

    Level is the `<PRI>` severity when present, else "" (parse.py derives one from the content).
    """
    m = _SYSLOG.fullmatch(line)
    if m is None or m.group(2) not in MONTHS:
        return None
    pri, mon, d, h, mi, s, _host, proc, _pid, msg = m.groups()
    level = SYSLOG_SEVERITY[int(pri) & 7] if pri else ""
    t = yearless_ms(year, ref, MONTHS[mon], int(d), int(h), int(mi), int(s), 0)
    return t, level, (proc or "").strip() or "-", msg, "syslog"


_BGL = re.compile(
    r"(\S+) (\d{9,11}) \d{4}\.\d\d\.\d\d (\S+) \d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.(\d{6}) \S+ "
    r"(\S+) (\S+) (\S+) ?(.*)",
    re.S,
)


def bgl(line: str) -> Parsed | None:
    """Blue Gene/L RAS log; time is the epoch-seconds field (UTC) plus the fraction of the local stamp."""
    m = _BGL.fullmatch(line)
    if m is None:
        return None
    _label, epoch_s, _node, micros, _type, comp, lvl, msg = m.groups()
    return int(epoch_s) * 1000 + int(micros) // 1000, lvl, comp, msg, "bgl"
