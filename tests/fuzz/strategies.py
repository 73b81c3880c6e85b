"""Shared hypothesis strategies: near-miss text, JSON with bad values, mutations of real lines."""

from __future__ import annotations

import json
import math

from hypothesis import strategies as st

#: one real line of each log format logwatch reads (from tests/data/logs/loghub)
REAL_LINES = [
    "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
    "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 "
    "RAS KERNEL INFO instruction cache parity error corrected",
    "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3886 terminating",
    "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster",
    "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0",
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
    "2024-01-02T03:04:05.678Z WARN worker-1 queue is 90% full",
]

#: characters that break parsers: digits, separators, brackets, control and wide characters
_TRICKY = "0123456789 :-/.,[]<>()T Z+\t\r\x00\x0b\x1c\u2028\u00a0\ufeff\U0001f600é٣²"


_REAL = st.sampled_from(REAL_LINES)


@st.composite
def near_miss(draw: st.DrawFn, base: st.SearchStrategy[str] = _REAL) -> str:
    """A real line with a few edits: deletions, insertions, replacements, truncation, doubling."""
    s = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["del", "ins", "rep", "cut", "dup", "swapdigit"]))
        i = draw(st.integers(0, max(0, len(s) - 1)))
        ch = draw(st.one_of(st.sampled_from(_TRICKY), st.characters()))
        if op == "del":
            s = s[:i] + s[i + 1:]
        elif op == "ins":
            s = s[:i] + ch + s[i:]
        elif op == "rep":
            s = s[:i] + ch + s[i + 1:]
        elif op == "cut":
            s = s[:i]
        elif op == "dup":
            s = s[:i] + s[i:] * 2
        elif s[i:i + 1].isdigit():
            s = s[:i] + draw(st.sampled_from("09")) + s[i + 1:]
    return s


def text_lines() -> st.SearchStrategy[str]:
    """Arbitrary text, tricky text, and near misses of every real format."""
    return st.one_of(st.text(), st.text(alphabet=_TRICKY, max_size=60), near_miss(), _REAL)


#: JSON scalars that break number and time fields
BAD_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**18, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    st.text(max_size=20), st.sampled_from(["", "NaN", "inf", "-1", "1e999", "0", "2011-09-13T13:53:36Z",
                                           "2011-13-45T99:99:99Z", "1316000000", "99999999999999999999",
                                           "9999-12-31T23:59:59+23:59", "0001-01-01T00:00:00-23:59", "²"]),
)
ANY_JSON = st.recursive(
    BAD_SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids,
                                                                                       max_size=4)),
    max_leaves=12,
)


@st.composite
def mangled(draw: st.DrawFn, shape: dict) -> dict:
    """`shape` (a valid message) with some fields removed, nulled or replaced by bad values."""
    obj = dict(shape)
    keys = list(obj)
    for k in draw(st.lists(st.sampled_from(keys), max_size=len(keys), unique=True)):
        action = draw(st.sampled_from(["drop", "bad", "any"]))
        if action == "drop":
            obj.pop(k)
        elif action == "bad":
            obj[k] = draw(BAD_SCALARS)
        else:
            obj[k] = draw(ANY_JSON)
    return obj


def dumps(obj: object) -> bytes:
    """JSON bytes as a server could send them (NaN and Infinity included: Python's json emits them)."""
    return json.dumps(obj).encode()
