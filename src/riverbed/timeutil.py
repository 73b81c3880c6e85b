"""Times at the edges: parse what users type (ISO 8601, epoch ms, durations) and what feeds send
(`time_us`), print ISO 8601 UTC."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from riverbed.errors import InvalidArgument

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|minutes?|h|hours?)?\s*$", re.I)
_FRACTION = re.compile(r"(\.\d{6})\d+")
EPOCH_S_MAX = 10**11  # numbers below this are epoch seconds, above it epoch milliseconds
TIME_US_MIN, TIME_US_MAX = -62_135_596_800_000_000, 253_402_300_799_999_999  # 0001-01-01 .. 9999-12-31
_UNIT_MS = {"ms": 1, "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
            "m": 60_000, "min": 60_000, "minute": 60_000, "minutes": 60_000,
            "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000}


def parse_time_ms(text: str) -> int:
    """An instant as epoch ms, from ISO 8601 (naive means UTC) or a whole number of epoch ms."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise InvalidArgument(
            f"cannot read {text!r} as a time", hint="use ISO 8601 like 2016-07-07T00:00:00Z, or epoch ms"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def parse_duration_ms(text: str) -> int:
    """A duration as ms: '500ms', '1s', '2 seconds', '1m', or a bare number of seconds."""
    m = _DURATION.match(text)
    if not m:
        raise InvalidArgument(
            f"cannot read {text!r} as a duration", hint="use e.g. 500ms, 1s, 10 seconds, 1m"
        )
    return int(float(m.group(1)) * _UNIT_MS[(m.group(2) or "s").lower()])


def iso(ms: int | None) -> str | None:
    """Epoch ms as ISO 8601 UTC with milliseconds, e.g. 2016-07-07T00:00:10.000Z."""
    if ms is None:
        return None
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def time_us(value: Any, what: str = "time") -> int:
    """Epoch microseconds from ISO 8601 (any fraction digits) or epoch s/ms (number or digits);
    ValueError if it is not a time or falls outside years 1-9999 (it could not be printed or stored)."""
    us = _time_us(value, what)
    if not TIME_US_MIN <= us <= TIME_US_MAX:
        raise ValueError(f"{what} {value!r} is out of range (years 1-9999)")
    return us


def _time_us(value: Any, what: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} is missing")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{what} {value!r} is not a time")
        return round(value * 1_000_000) if abs(value) < EPOCH_S_MAX else int(value) * 1000
    if isinstance(value, str):
        s = value.strip()
        try:
            return _time_us(float(s), what)
        except ValueError:
            pass
        try:
            d = datetime.fromisoformat(_FRACTION.sub(r"\1", s.replace("Z", "+00:00")))
        except ValueError:
            raise ValueError(f"{what} {value!r} is not ISO 8601 or epoch seconds") from None
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        delta = d - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise ValueError(f"{what} {value!r} is not a time")
