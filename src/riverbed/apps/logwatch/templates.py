"""`mask`: a log message -> its template, variable parts replaced by `<*>` as in loghub's EventTemplate.

Rules, in the order applied (precompiled regexes over the whole message, so spacing is kept):
 1. URLs `scheme://...` -> `scheme://<*>`; ctime dates `Sun Jul 17 13:00:01 2005` -> `<*>`.
 2. MAC-like `FF:F2:9F:...`, UUIDs, `0x` hex and hex words of 8+ characters holding a digit -> `<*>`.
 3. IPv4 addresses -> `<*>` (a `:port` after one becomes `:<*>` by rule 8, as loghub writes `<*>:<*>`).
 4. Host names: `host=`/`rhost=` values and names ending in a common or two-letter TLD -> `<*>`.
 5. Paths (`/a/b`, `./a`, `~/a`) -> `<*>`, or `/<*>/name-<*>` when the file name is an id
    (`/<*>/blk_<*>`, `/<*>/part-<*>.`), so such groups keep their shape.
 6. Ids made of a word, `_` and a value starting with a digit (`blk_-42`, `attempt_14_0020_m_2_0`)
    -> `word_<*>`.
 7. User names: `user NAME` (not `user unknown`), `for NAME from`, `user=NAME` -> `<*>`; sizes and
    durations with their unit (`17.7 KB`, `35ms`) -> `<*>`; an empty ` ()` -> ` (<*>)`.
 8. Digit runs not glued to a letter (`size 67108864`, `10:15:03`, `part-00000`, `1.5`, `-3`), and
    2+ digits ending a word (`bglio46`, `U11`) -> `<*>`; `jk2_init`, `ssh2`, `tty2` are kept.
`grouping_accuracy` scores a masking against ground-truth groups (Zhu et al., ICSE-SEIP 2019).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence

_STAR = "<*>"
_URL = re.compile(r"\b([A-Za-z][\w+.-]*)://[^\s\[\](){},;\"']+")
_DATETIME = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} "
    r"\d\d:\d\d:\d\d(?: \d{4})?\b"
)
_MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5,}\b")
_HEX = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b0[xX][0-9a-fA-F]+\b"
    r"|\b(?=[0-9a-fA-F]{8,}\b)(?:\d+[a-fA-F]|[a-fA-F]+\d)[0-9a-fA-F]*\b"
)
_IP = re.compile(r"(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w.])")
_KV_HOST = re.compile(r"\b(r?host(?:name)?=)[^\s,;]+")
_DOTTED = re.compile(r"(?<![\w.-])[A-Za-z0-9][\w-]*(?:\.[\w-]+)+(?![\w.-])")
_TLDS = frozenset(["com", "net", "org", "edu", "gov", "mil", "info", "biz", "io", "local", "lan", "arpa"])
_PREFIXED_ID = re.compile(r"(?<=[A-Za-z]_)-?\d[\w-]*")
_USER = re.compile(
    r"\b(user) +(?!unknown\b)[\w.@$-]+(?= from\b| by\b|$| \[)"
    r"|\b(for) (?!invalid\b|user\b)[\w.@$-]+(?= from\b)"
    r"|\b(user=)[\w.@$-]+"
)
_SIZE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?: ?(?:[KMGT]i?B|B|bytes)|ms|us|µs|ns|s|m|h|d)\b")
_PATH = re.compile(r"(?<![\w.:/<>*~])(?:\.\.?|~)?/(?:[\w.$@+~-]+/*)+")
_ID_NAME = re.compile(r"[A-Za-z]+[_-]<\*>\.?")
_DIGITS = re.compile(r"(?<![A-Za-z\d])-?\d+(?![A-Za-z\d])|(?<=[A-Za-z])\d{2,}(?!\w)")


def _path(m: re.Match[str]) -> str:
    """A path is one `<*>`, unless its file name is an id (`/<*>/blk_<*>`, `/<*>/part-<*>.`)."""
    path = m.group(0)
    parts = [p for p in path.split("/") if p]
    last = _DIGITS.sub(_STAR, _PREFIXED_ID.sub(_STAR, parts[-1]))
    if path.endswith("/") or not _ID_NAME.fullmatch(last):
        return _STAR
    return ("/<*>/" if len(parts) > 2 else "/" + "".join(d + "/" for d in parts[:-1])) + last


def _host(m: re.Match[str]) -> str:
    """A dotted name is a host when it ends in a common TLD, or in a two-letter one after 2+ dots."""
    name = m.group(0)
    tld = name[name.rindex(".") + 1 :]
    if tld in _TLDS or (len(tld) == 2 and tld.islower() and name.count(".") >= 3):
        return _STAR
    return name


def _user(m: re.Match[str]) -> str:
    if m.group(3) is not None:
        return m.group(3) + _STAR
    return (m.group(1) or m.group(2)) + " <*>"


def mask(message: str) -> str:
    """The template of a message: variable parts (numbers, ids, addresses, ...) replaced by `<*>`.

    >>> mask("Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6")
    'Received block blk_<*> of size <*> from /<*>'
    """
    s = message
    if "://" in s:
        s = _URL.sub(r"\1://<*>", s)
    if ":" in s:
        s = _DATETIME.sub(_STAR, s)
        s = _MAC.sub(_STAR, s)
    s = _HEX.sub(_STAR, s)
    if "." in s:
        s = _IP.sub(_STAR, s)
        s = _DOTTED.sub(_host, s)
    if "host" in s:
        s = _KV_HOST.sub(r"\1<*>", s)
    if "/" in s:
        s = _PATH.sub(_path, s)
    if "_" in s:
        s = _PREFIXED_ID.sub(_STAR, s)
    if "user" in s or "for " in s:
        s = _USER.sub(_user, s)
    s = _SIZE.sub(_STAR, s)
    if " ()" in s:
        s = s.replace(" ()", " (<*>)")
    return _DIGITS.sub(_STAR, s)


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group holds exactly the lines of their ground-truth group."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} truth labels but {len(predicted)} predictions")
    if not truth:
        return 1.0
    truth_size = Counter(truth)
    pred_members: dict[Hashable, Counter[Hashable]] = {}
    for t, p in zip(truth, predicted, strict=True):
        pred_members.setdefault(p, Counter())[t] += 1
    correct = 0
    for members in pred_members.values():
        if len(members) == 1:
            ((t, n),) = members.items()
            if truth_size[t] == n:
                correct += n
    return correct / len(truth)
