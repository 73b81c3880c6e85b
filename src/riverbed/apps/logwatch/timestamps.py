"""Timestamps logwatch detects in a line, wherever the header puts them (`find_time`).

Each form is one precompiled regex matched at a token start (`TIME_FORMS`, tried in this order):
    iso       2024-05-01T12:00:00.123Z, 2024-05-01 12:00:00,123 +02:00, 2005-06-03-15.42.50.675872
    ymd       2024/05/01 12:00:00, 2016/9/27:20:30:31.455, 2005.06.03 15:42:50, 2005.06.03 (a date alone)
    yy        17/06/09 20:10:40 (log4j, Hadoop, Spark)
    compact   081109 203615 (yyMMdd HHmmss)
    dashed    20171223-22:15:29:606 (yyyyMMdd-HH:mm:ss:SSS; fields may be unpadded: 22:16:0:11)
    ctime     Sun Dec 04 04:47:44 2005
    rfc2822   Tue, 07 Dec 2026 12:00:00 +0000, 07-Dec-2026 12:00:00.123 (Tomcat)
    clf       10/Oct/2000:13:55:36 -0700 (Apache/NCSA access logs, inside `[...]`)
    syslog    Dec 10 06:55:46 (RFC 3164; year-less)
    md        03-17 16:13:38.811 (Android logcat; year-less), 10.30 16:49:06 (`[MM.dd HH:mm:ss]`)
    glog      I0507 12:34:56.789012 (glog: the level letter, then MMdd; year-less)
    epoch     1117838570, 1717243200123 (10 or 13 digits, seconds or milliseconds, with a fraction)
A zone stated in the line (`Z`, `+02:00`, `-0700`, `UTC`, `GMT`) is applied; otherwise the time is a
wall-clock time (the caller applies the configured zone). Year-less forms take the year closest to
a reference time (the record's log time), so a Dec 31 line logged on Jan 1 is read in the old year.
Impossible dates and times are rejected, so a number that only looks like a stamp is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from riverbed.apps.logwatch.formats import MONTHS, _year2, epoch_ms, yearless_ms
from riverbed.errors import LogParseError

_ZONE = r"(?:\s?(Z|UTC|GMT|[+-]\d\d:?\d\d)(?![\w:]))?"
_FRAC = r"(?:[.,:](\d{1,9}))?"
_MON = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"

#: (time ms, zone stated, year-less) -- the converters' result
Found = tuple[int, bool, bool]


def zone_ms(zone: str | None) -> int:
    """Offset of a `Z` / `UTC` / `+hh:mm` / `-hhmm` zone in ms (to subtract from the wall-clock time)."""
    if not zone or zone in ("Z", "UTC", "GMT"):
        return 0
    digits = zone[1:].replace(":", "")
    off = (int(digits[:2]) * 60 + int(digits[2:4])) * 60_000
    return off if zone[0] == "+" else -off


def _ms(frac: str | None) -> int:
    return int((frac + "00")[:3]) if frac else 0


def _frac_ms(m: re.Match[str], frac: str | None) -> int:
    """A fraction after `.` or `,` is decimal; after `:` (yyyyMMdd-HH:mm:ss:SSS) a count of ms."""
    if frac and m.string[m.start(7) - 1] == ":":
        return int(frac) if len(frac) <= 3 else _ms(frac)
    return _ms(frac)


def _iso(m: re.Match[str], year: int, ref: int | None) -> Found:
    y, mo, d, h, mi, s, frac, zone = m.groups()
    t = epoch_ms(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), _frac_ms(m, frac))
    return t - zone_ms(zone), zone is not None, False


def _date_only(m: re.Match[str], year: int, ref: int | None) -> Found:
    y, mo, d = m.groups()
    return epoch_ms(int(y), int(mo), int(d), 0, 0, 0), False, False


def _yy(m: re.Match[str], year: int, ref: int | None) -> Found:
    y, mo, d, h, mi, s, frac = m.groups()
    return epoch_ms(_year2(y), int(mo), int(d), int(h), int(mi), int(s), _ms(frac)), False, False


def _ctime(m: re.Match[str], year: int, ref: int | None) -> Found:
    mon, d, h, mi, s, frac, zone, y = m.groups()
    t = epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac))
    return t - zone_ms(zone), zone is not None, False


def _rfc2822(m: re.Match[str], year: int, ref: int | None) -> Found:
    d, mon, y, h, mi, s, frac, zone = m.groups()
    t = epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac))
    return t - zone_ms(zone), zone is not None, False


def _clf(m: re.Match[str], year: int, ref: int | None) -> Found:
    d, mon, y, h, mi, s, frac, zone = m.groups()
    t = epoch_ms(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac))
    return t - zone_ms(zone), zone is not None, False


def _syslog(m: re.Match[str], year: int, ref: int | None) -> Found:
    mon, d, h, mi, s, frac, zone = m.groups()
    t = yearless_ms(year, ref, MONTHS[mon], int(d), int(h), int(mi), int(s), _ms(frac))
    return t - zone_ms(zone), zone is not None, True


def _md(m: re.Match[str], year: int, ref: int | None) -> Found:
    mo, d, h, mi, s, frac = m.groups()
    return yearless_ms(year, ref, int(mo), int(d), int(h), int(mi), int(s), _ms(frac)), False, True


def _epoch(m: re.Match[str], year: int, ref: int | None) -> Found:
    digits, frac = m.groups()
    t = int(digits) if len(digits) == 13 else int(digits) * 1000 + _ms(frac)
    return t, True, False


Converter = Callable[[re.Match[str], int, int | None], Found]
_END = r"(?!\w)"

_FORM_SOURCES: tuple[tuple[str, str, Converter], ...] = (
    ("iso", r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?" + _FRAC + _ZONE + _END, _iso),
    ("iso", r"(\d{4})-(\d\d)-(\d\d)-(\d\d)\.(\d\d)\.(\d\d)" + _FRAC + "()" + _END, _iso),
    ("ymd", r"(\d{4})[/.](\d\d?)[/.](\d\d?)[ T:](\d\d?):(\d\d):(\d\d)" + _FRAC + _ZONE + _END, _iso),
    ("yy", r"(\d\d)/(\d\d)/(\d\d)[ T](\d\d):(\d\d):(\d\d)" + _FRAC + _END, _yy),
    ("compact", r"(\d\d)(\d\d)(\d\d)[ T-](\d\d)(\d\d)(\d\d)()" + _END, _yy),
    ("dashed", r"(\d{4})(\d\d)(\d\d)[-T ](\d\d?):?(\d\d?):?(\d\d?)" + _FRAC + _ZONE + r"(?!\d)", _iso),
    ("ctime", _DAY + r",? " + _MON + r" +(\d{1,2}) (\d\d):(\d\d):(\d\d)" + _FRAC + r"(?: (UTC|GMT))?"
     r" (\d{4})" + _END, _ctime),
    ("rfc2822", r"(?:" + _DAY + r",? )?(\d{1,2})[ -]" + _MON + r"[ -](\d{4})[ :](\d\d):(\d\d):(\d\d)" + _FRAC
     + _ZONE + _END, _rfc2822),
    ("clf", r"(\d\d)/" + _MON + r"/(\d{4}):(\d\d):(\d\d):(\d\d)" + _FRAC + _ZONE + _END, _clf),
    ("syslog", _MON + r" +(\d{1,2}) (\d\d):(\d\d):(\d\d)" + _FRAC + _ZONE + _END, _syslog),
    ("md", r"(\d\d)[-.](\d\d) (\d\d):(\d\d):(\d\d)" + _FRAC + _END, _md),
    ("glog", r"(?<=[IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)" + _FRAC + _END, _md),
    ("ymd", r"(\d{4})\.(\d\d)\.(\d\d)" + _END, _date_only),
    ("epoch", r"(\d{13}|\d{10})(?:\.(\d{1,6}))?(?![\w.:/-])", _epoch),
)
#: (name, regex matched at a token start, converter); the order is the order tried
TIME_FORMS = tuple((name, re.compile(rx), conv) for name, rx, conv in _FORM_SOURCES)
_INDEXED = tuple((i, rx, conv) for i, (_, rx, conv) in enumerate(TIME_FORMS))
_BY_NAME = {i: name for i, (name, _, _) in enumerate(TIME_FORMS)}
_DIGIT_FORMS = tuple(f for f in _INDEXED if _BY_NAME[f[0]] not in ("ctime", "syslog", "glog"))
_ALPHA_FORMS = tuple(f for f in _INDEXED if _BY_NAME[f[0]] in ("ctime", "rfc2822", "syslog"))
_GLOG = next(f for f in _INDEXED if _BY_NAME[f[0]] == "glog")
_TOKEN = re.compile(r"\S+")
#: how many leading tokens (a host, a node id, a process name, a bracket) a timestamp may follow
MAX_SKIP = 6


def time_at(line: str, pos: int, year: int, ref: int | None) -> tuple[int, int, int, bool, bool] | None:
    """(time ms, end, form index, zone stated, year-less) of a timestamp starting at `pos`, or None."""
    c = line[pos : pos + 1]
    if not c:
        return None
    if c.isdigit():
        forms = _DIGIT_FORMS
    elif c in "IWEF" and line[pos + 1 : pos + 2].isdigit():
        forms = (_GLOG,)
        pos += 1
    elif c.isalpha():
        forms = _ALPHA_FORMS
    else:
        return None
    for index, rx, conv in forms:
        m = rx.match(line, pos)
        if m is not None:
            try:
                t, zoned, yearless = conv(m, year, ref)
            except (LogParseError, ValueError):
                continue
            return t, m.end(), index, zoned, yearless
    return None


def token_starts(line: str, limit: int = MAX_SKIP + 1) -> list[int]:
    """Where the first `limit` whitespace-separated tokens start, just past an opening `[`, `(` or `<`."""
    starts: list[int] = []
    for m in _TOKEN.finditer(line):
        s = m.start()
        while line[s] in "[(<" and s + 1 < m.end():
            s += 1
        starts.append(s)
        if len(starts) >= limit:
            break
    return starts


def find_time(line: str, year: int, ref: int | None) -> tuple[int, int, int, int, bool, bool] | None:
    """(time ms, start, end, form index, zone stated, year-less) of the first timestamp among the
    line's first tokens, or None when there is none."""
    for pos in token_starts(line):
        got = time_at(line, pos, year, ref)
        if got is not None:
            t, end, form, zoned, yearless = got
            return t, pos, end, form, zoned, yearless
    return None
