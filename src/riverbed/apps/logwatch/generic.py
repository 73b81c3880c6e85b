"""The generic fallback: any line that starts with (or, for access logs, contains) a known timestamp.

Timestamps recognised, tried in this order (zone-less times are UTC, explicit offsets are honoured):
ISO 8601 / RFC 3339 (`2024-05-01T12:00:00.123Z`, `2024-05-01 12:00:00,123 +02:00`), `yyyy/MM/dd HH:mm:ss`,
`yy/MM/dd HH:mm:ss`, `yyMMdd HHmmss`, ctime `Sun Dec 04 04:47:44 2005`, syslog `Dec 10 06:55:46`
(year from the caller), epoch seconds or milliseconds (10 or 13 digits), and the Common Log Format
stamp `[10/Oct/2000:13:55:36 -0700]` anywhere in the line. After the timestamp come an optional
level word (`ERROR`, `[warn]`, `level=info`) and an optional `component:` or `[thread] component:`.
Returns level "" when no level word is present (parse.py then derives one) and component "-" when
there is none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from riverbed.apps.logwatch.formats import MONTHS, Parsed, _year2, epoch_ms

_FRAC_ZONE = r"(?:[.,](\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?"
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?" + _FRAC_ZONE)
_YMD_SLASH = re.compile(r"(\d{4})/(\d\d)/(\d\d)[ T](\d\d):(\d\d):(\d\d)" + _FRAC_ZONE)
_YY_SLASH = re.compile(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)()()")
_COMPACT = re.compile(r"(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)()()")
_CTIME = re.compile(r"\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4})")
_SYSLOG_TS = re.compile(r"(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)" + _FRAC_ZONE)
_EPOCH = re.compile(r"(\d{13}|\d{10})(?:\.(\d{1,6}))?(?=[\s,;|\]]|$)")
_CLF = re.compile(r"\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d)(?: ([+-]\d{4}))?\]")

_LEVEL_WORDS = (
    "TRACE|DEBUG|FINE|FINER|FINEST|INFO|INFORMATION|NOTICE|WARN|WARNING|ERR|ERROR|SEVERE|FAILURE"
    "|CRIT|CRITICAL|ALERT|EMERG|EMERGENCY|FATAL|PANIC"
)
_LEVEL = re.compile(rf"[\[(<]?(?:level=)?({_LEVEL_WORDS})[\])>]?:?(?:\s+|$)", re.I)
_COMPONENT = re.compile(r"(?:\[[^\]]*\]\s+)?([\w.$/@#\-]+?)(?:\[\d+\])?:(?:\s+|$)(.*)", re.S)


def _ms(frac: str | None) -> int:
    return int((frac + "00")[:3]) if frac else 0


def _zone_ms(zone: str | None) -> int:
    """Offset of a `Z` / `+hh:mm` / `-hhmm` zone in ms (to subtract from the wall-clock time)."""
    if not zone or zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    off = (int(digits[:2]) * 60 + int(digits[2:4])) * 60_000
    return off if zone[0] == "+" else -off


def _iso(m: re.Match[str], year: int) -> int:
    y, mo, d, h, mi, s, frac, zone = m.groups()
    t = epoch_ms(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), _ms(frac))
    return t - _zone_ms(zone)


def _yy(m: re.Match[str], year: int) -> int:
    y, mo, d, h, mi, s = m.groups()[:6]
    return epoch_ms(_year2(y), int(mo), int(d), int(h), int(mi), int(s))


def _ctime(m: re.Match[str], year: int) -> int:
    mon, d, h, mi, s, frac, y = m.groups()
    if mon not in MONTHS:
        raise ValueError(mon)
    return epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac))


def _syslog_ts(m: re.Match[str], year: int) -> int:
    mon, d, h, mi, s, frac, zone = m.groups()
    if mon not in MONTHS:
        raise ValueError(mon)
    return epoch_ms(year, MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac)) - _zone_ms(zone)


def _epoch(m: re.Match[str], year: int) -> int:
    digits, frac = m.groups()
    return int(digits) if len(digits) == 13 else int(digits) * 1000 + _ms(frac)


def _clf(m: re.Match[str], year: int) -> int:
    d, mon, y, h, mi, s, zone = m.groups()
    if mon not in MONTHS:
        raise ValueError(mon)
    return epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s)) - _zone_ms(zone)


_ANCHORED: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], int], int]], ...] = (
    (_ISO, _iso),
    (_YMD_SLASH, _iso),
    (_YY_SLASH, _yy),
    (_COMPACT, _yy),
    (_CTIME, _ctime),
    (_SYSLOG_TS, _syslog_ts),
    (_EPOCH, _epoch),
)


def _find_time(line: str, year: int) -> tuple[int, str] | None:
    """(epoch ms, the rest of the line after the timestamp) or None when no timestamp is found."""
    start = 0
    if line[:1] in "[(":
        start = 1
    for rx, conv in _ANCHORED:
        m = rx.match(line, start)
        if m is not None:
            try:
                return conv(m, year), line[m.end() :].lstrip(" ])\t")
            except ValueError:  # a month name that is not one, or an impossible date
                continue
    m = _CLF.search(line)
    if m is not None:
        try:
            return _clf(m, year), f"{line[: m.start()].rstrip()} {line[m.end() :].lstrip()}".strip()
        except ValueError:
            return None
    return None


def generic(line: str, year: int) -> Parsed | None:
    """Parse any line with a recognisable timestamp; None when there is none."""
    found = _find_time(line, year)
    if found is None:
        return None
    t, rest = found
    level = ""
    m = _LEVEL.match(rest)
    if m is not None:
        level, rest = m.group(1), rest[m.end() :]
    component = "-"
    c = _COMPONENT.match(rest)
    if c is not None:
        component, rest = c.group(1), c.group(2)
    return t, level, component, rest, "generic"
