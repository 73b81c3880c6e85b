"""`Detector`: reads a line of any layout -- its time, stated level, component and message -- and
learns each source's layout from its lines so the next ones cost one compiled regex.

A line is read as `[<PRI>] [tokens...] TIMESTAMP header... [component:] message`:
- the timestamp (timestamps.py) is the first one found at the start of one of the first tokens,
  after up to `MAX_SKIP` tokens (a host, a node id, a process name, a bracket);
- the header (tokens before the timestamp, then up to `HEADER_TOKENS` after it, stopping at the
  first `name:` token) is searched for a stated level (levels.py); `<PRI>` gives the syslog
  severity; the component is the first `name:` or `name :` token (`sshd[42]:` -> `sshd`), else a
  dotted or column-aligned name right after the level (`INFO nova.compute.manager`, `Info  CBS  ...`);
  after a level, a lone `-` starts the message (`INFO [thread] - message`);
- RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) takes APP as the component;
- JSON lines take `time`/`timestamp`/`ts`/`@timestamp`, `level`/`severity`/`levelname`,
  `msg`/`message` and `logger`/`name`/`component`.
The layout learned is where the timestamp sits (how many tokens precede it) and its form; a line
that does not fit is read with the full search, and its layout is kept for the next lines.
"""

from __future__ import annotations

import json
import re
from itertools import islice

from riverbed.apps.logwatch.formats import SYSLOG_SEVERITY
from riverbed.apps.logwatch.levels import normalize_level, token_level
from riverbed.apps.logwatch.timestamps import TIME_FORMS, find_time, time_at
from riverbed.errors import LogParseError

#: (time ms or None, zone stated, year-less, level or "", component, message, format)
Detected = tuple[int | None, bool, bool, str, str, str, str]

#: (time ms, start, end, zone stated, year-less, form index) of a timestamp in a line
_Found = tuple[int, int, int, bool, bool, int]
_GLOG = next(i for i, form in enumerate(TIME_FORMS) if form[0] == "glog")
HEADER_TOKENS = 9
_PRI = re.compile(r"<(\d{1,3})>")
_WORD = re.compile(r"\S+")
_PID = re.compile(r"(?:\[[^\]]*\]|\(\d+\))?:$")
_NAME = re.compile(r"[A-Za-z_][\w$.()/-]*")
_JSON_TIME = ("time", "timestamp", "ts", "@timestamp", "datetime", "date", "t")
_JSON_LEVEL = ("level", "severity", "levelname", "lvl", "loglevel", "log.level")
_JSON_MSG = ("msg", "message", "text", "event")
_JSON_COMP = ("logger", "logger_name", "name", "component", "module", "service", "source")


class Detector:
    """Reads lines of one source (a topic partition, a file), keeping the layout it learned."""

    __slots__ = ("layout",)

    def __init__(self) -> None:
        self.layout: tuple[re.Pattern[str], int] | None = None

    def detect(self, line: str, year: int, ref: int | None) -> Detected:
        """Time, zone/year flags, level, component and message of a stripped, non-empty line."""
        if line[0] == "{" and line[-1] == "}":
            got = _json(line, year, ref)
            if got is not None:
                return got
        level, start = "", 0
        if line[0] == "<":
            m = _PRI.match(line)
            if m is not None:
                level, start = SYSLOG_SEVERITY[int(m.group(1)) & 7], m.end()
                if line[start : start + 2] == "1 ":
                    return _rfc5424(line, start + 2, level, year, ref)
        found = self._time(line, start, year, ref)
        if found is None:
            lv, comp, msg = _header(line[start:], "", "")
            return None, False, False, level or lv, comp, msg, "generic"
        t, ts_start, ts_end, zoned, yearless, form = found
        if form == _GLOG:  # I0507 12:34:56.789012 ...: the level letter starts the stamp
            level = level or normalize_level(line[ts_start])
        before = line[start:ts_start].rstrip(" [(<")
        lv, comp, msg = _header(line[ts_end:].lstrip(" ])>,|\t"), before, level)
        return t, zoned, yearless, lv, comp, msg, "generic"

    def _time(self, line: str, start: int, year: int, ref: int | None) -> _Found | None:
        """(time, start, end, zoned, year-less) by the learned layout, else by the full search."""
        if self.layout is not None:  # the learned tokens before the stamp, then the learned form only
            rx, form = self.layout
            m = rx.match(line, start)
            if m is not None:
                pos = m.end()
                _, form_rx, convert = TIME_FORMS[form]
                f = form_rx.match(line, pos + 1 if form == _GLOG else pos)
                if f is not None:
                    try:
                        t, zoned, yearless = convert(f, year, ref)
                    except (LogParseError, ValueError):
                        pass
                    else:
                        return t, pos, f.end(), zoned, yearless, form
        found = find_time(line[start:], year, ref)
        if found is None:
            return None
        t, s, e, form, zoned, yearless = found
        skip = len(_WORD.findall(line[start : start + s]))
        if line[start + s - 1 : start + s] in "[(<" and s:
            skip -= 1  # the bracket glued to the timestamp is part of its token
        self.layout = (re.compile(rf"\s*(?:\S+\s+){{{max(skip, 0)}}}[\[(<]*"), form)
        return t, start + s, start + e, zoned, yearless, form


def _header(rest: str, before: str, level: str) -> tuple[str, str, str]:
    """(level, component, message) from the text after the timestamp and the tokens before it."""
    for tok in before.split():
        if not level:
            level = token_level(tok, None) or ""
    toks = list(islice(_WORD.finditer(rest), HEADER_TOKENS + 1))
    level_at, comp, msg_at = -1, "-", 0
    for i, m in enumerate(toks[:HEADER_TOKENS]):
        tok = m.group()
        if not level:
            nxt = toks[i + 1].group() if i + 1 < len(toks) else None
            lv = token_level(tok, nxt)
            if lv is not None:
                level, level_at, msg_at = lv, i, m.end()
                continue
        aligned = "." in tok or rest[m.end() : m.end() + 2] == "  "  # INFO nova.api ..., Info  CBS  ...
        if i == level_at + 1 and level_at >= 0 and aligned and _NAME.fullmatch(tok):
            comp, msg_at = tok, m.end()
            break
        if tok == ":" and i > 0 and _NAME.fullmatch(toks[i - 1].group()):  # ... [main] c.e.App : msg
            comp, msg_at = toks[i - 1].group(), m.end()
            break
        if tok == "-":
            if level_at >= 0:  # LEVEL [where] - message
                msg_at = m.end()
                break
            continue
        if tok.endswith(":") and len(tok) > 1 and tok[0] not in "[(":
            name = _PID.sub("", tok)
            if _NAME.fullmatch(name):
                comp, msg_at = name, m.end()
                break
    msg = rest[msg_at:].strip()
    if msg_at == 0 and before:
        msg = f"{before} {msg}".strip()
    return level, comp, msg


def _rfc5424(line: str, pos: int, level: str, year: int, ref: int | None) -> Detected:
    """`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG` (RFC 5424); `-` is a nil value."""
    got = time_at(line, pos, year, ref)
    t, zoned, end = (None, False, pos) if got is None else (got[0], got[3], got[1])
    parts = line[end:].split(None, 4)
    app = parts[1] if len(parts) > 1 and parts[1] != "-" else "-"
    msg = parts[4] if len(parts) > 4 else ""
    if msg.startswith("["):  # structured data: [id k="v" ...]... up to the message
        depth = 0
        for i, c in enumerate(msg):
            depth += c == "["
            depth -= c == "]"
            if depth == 0 and c == "]" and msg[i + 1 : i + 2] != "[":
                msg = msg[i + 1 :]
                break
    elif msg.startswith("- ") or msg == "-":
        msg = msg[2:]
    return t, zoned, False, level, app, msg.lstrip("\ufeff ").strip(), "rfc5424"


def _json(line: str, year: int, ref: int | None) -> Detected | None:
    """A JSON object per line: its time, level, message and logger fields; None if not JSON."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    t, zoned, yearless = None, False, False
    for k in _JSON_TIME:
        v = obj.get(k)
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int | float):
            t = int(v * 1000) if v < 1e11 else int(v) if v < 1e14 else int(v // 1000)
            zoned = True
            break
        if isinstance(v, str):
            got = time_at(v, 0, year, ref)
            if got is not None:
                t, zoned, yearless = got[0], got[3], got[4]
                break
    level = next((str(obj[k]) for k in _JSON_LEVEL if isinstance(obj.get(k), str | int)), "")
    if level.isdigit():  # bunyan/pino numeric levels: 10 trace ... 60 fatal
        level = {"10": "TRACE", "20": "DEBUG", "30": "INFO", "40": "WARN", "50": "ERROR", "60": "FATAL"}.get(
            level, level)
    msg = next((str(obj[k]) for k in _JSON_MSG if k in obj), line)
    comp = next((str(obj[k]) for k in _JSON_COMP if isinstance(obj.get(k), str)), "-")
    return t, zoned, yearless, level, comp, msg, "json"

