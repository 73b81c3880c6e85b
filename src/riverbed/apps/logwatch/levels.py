"""Levels: the level a line states (found where its format puts it), spelling normalised, or one
inferred from message keywords for lines that state none.

Stated levels (`token_level`), looked for in the line's header (the few tokens around the
timestamp, up to the first `name:` token, where the message starts):
    a level word in upper case or capitalised (`INFO`, `Info`, `WARNING`, `Error`), in any case when
    decorated (`[error]`, `<Warning>`, `(warn)`, `level=warn`, `severity=ERROR`, `lvl=info`),
    `LEVEL:` in upper case glued to what follows (`WARNING:root:msg`, `ERROR: msg`), and the single
    letters Android logcat writes (`V D I W E F`) when a `tag:` follows (`D WindowManager:`) or as
    `D/Tag` (glog's letter is read with its timestamp, timestamps.py).
Spelling (`normalize_level`): upper-cased, then
    WARNING -> WARN;  ERR, SEVERE, FAILURE -> ERROR;
    CRIT, CRITICAL, ALERT, EMERG, EMERGENCY, PANIC -> FATAL;  INFORMATION -> INFO;
    FINE, FINER, FINEST -> DEBUG;  V D I W E F -> VERBOSE DEBUG INFO WARN ERROR FATAL;
    anything else is kept upper-cased.
Inferred (`level_from_content`, only for lines that state no level): an access log line by its HTTP
status (5xx ERROR, 4xx WARN, else INFO); any other by case-insensitive whole words:
    ERROR if the message contains error(s), fail, failed, failure(s), fatal, panic, critical, exception,
        segfault;
    else WARN if it contains warn, warning, invalid, refused, denied, break-in, illegal, unauthorized,
        timeout, timed out, unknown;
    else INFO.
"""

from __future__ import annotations

import re

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
    "V": "VERBOSE",
    "D": "DEBUG",
    "I": "INFO",
    "W": "WARN",
    "E": "ERROR",
    "F": "FATAL",
}
_WORDS = (
    "TRACE", "DEBUG", "FINE", "FINER", "FINEST", "VERBOSE", "INFO", "INFORMATION", "NOTICE", "WARN",
    "WARNING", "ERR", "ERROR", "SEVERE", "CRIT", "CRITICAL", "ALERT", "EMERG", "EMERGENCY", "FATAL",
    "PANIC",
)
_KNOWN = frozenset(_WORDS)
#: every spelling of a level word (upper, lower, capitalised) -> its normalised name
LEVEL_NAMES = {
    v: _LEVEL_ALIASES.get(w, w) for w in (*_WORDS, "FAILURE") for v in (w, w.lower(), w.capitalize())
}
#: bare tokens taken as a stated level: upper case or capitalised spellings
_BARE = {s: _LEVEL_ALIASES.get(w, w) for w in _WORDS for s in (w, w.capitalize())}
#: decorated tokens (`[error]`, `level=warn`): any case
_ANY_CASE = {w.lower(): _LEVEL_ALIASES.get(w, w) for w in _WORDS}
_LETTERS = {"V": "VERBOSE", "D": "DEBUG", "I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}
_KEYS = ("level=", "severity=", "lvl=", "loglevel=")
_HTTP_STATUS = re.compile(r'HTTP/\d(?:\.\d)?" ([1-5])\d\d\b')
_ERROR_WORDS = re.compile(
    r"\b(?:errors?|fail|failed|failures?|fatal|panic|critical|exception|segfault)\b", re.I
)
_WARN_WORDS = re.compile(
    r"\b(?:warn|warning|invalid|refused|denied|break-in|illegal|unauthori[sz]ed|timeout|timed out|unknown)\b",
    re.I,
)


def normalize_level(level: str) -> str:
    """Upper-case a level word and map its aliases (WARNING -> WARN, SEVERE -> ERROR, I -> INFO, ...)."""
    up = level.upper()
    return _LEVEL_ALIASES.get(up, up)


def level_name(word: str) -> str | None:
    """The normalised level a word names (any case, any alias), or None when it names none: what a
    layout's level field must hold."""
    got = LEVEL_NAMES.get(word)
    if got is None:
        up = word.upper()
        if up in _LEVEL_ALIASES or up in _KNOWN:
            return _LEVEL_ALIASES.get(up, up)
    return got


def level_from_content(message: str) -> str:
    """ERROR / WARN / INFO from keywords in the message (an access log's HTTP status), for lines
    that carry no level."""
    if 'HTTP/' in message:
        status = _HTTP_STATUS.search(message)
        if status is not None:
            return "ERROR" if status.group(1) == "5" else "WARN" if status.group(1) == "4" else "INFO"
    if _ERROR_WORDS.search(message):
        return "ERROR"
    if _WARN_WORDS.search(message):
        return "WARN"
    return "INFO"


def token_level(tok: str, nxt: str | None) -> str | None:
    """The normalised level one header token states (see the module doc), else None.

    `nxt` is the token after it: a logcat letter counts only when a `tag:` follows.
    """
    got = _BARE.get(tok)
    if got is not None:
        return got
    first = tok[:1]
    if first in "[<(\"'":
        got = _ANY_CASE.get(tok.strip("[]<>()\"':,").lower())
        if got is not None:
            return got
    if "=" in tok:
        low = tok.lower()
        for key in _KEYS:
            if low.startswith(key):
                return _ANY_CASE.get(low[len(key) :].strip("\"',;"))
        return None
    if len(tok) == 1:
        return _LETTERS.get(tok) if nxt is not None and nxt.endswith(":") else None
    if tok[1:2] == "/" and first in _LETTERS:  # logcat brief: D/Tag( 123): msg
        return _LETTERS[first]
    head, colon, _ = tok.partition(":")
    if colon:  # WARNING:root:msg, ERROR: msg (upper case only: `Error: ...` starts a message)
        return _BARE.get(head) if head.isupper() else None
    if tok[-1:] in ",;":
        return _BARE.get(tok[:-1])
    return None
