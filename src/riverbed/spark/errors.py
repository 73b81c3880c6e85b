"""Spark wraps errors raised in riverbed's Python code (data source, parse, sinks) in its own
exceptions, with the Python traceback flattened into the message. Recover riverbed's message."""

from __future__ import annotations

import re

from riverbed.errors import RiverbedError

_OURS = re.compile(r"riverbed\.errors\.(\w+): (.*?)(?: SQLSTATE: \w+|\n|$)", re.S)


def from_spark(exc: BaseException, doing: str) -> RiverbedError:
    """A RiverbedError for a Spark exception: riverbed's own message when one is inside it, else
    the first line of Spark's, prefixed with what was being done."""
    text = str(exc)
    found = _OURS.findall(text)
    if found:
        return RiverbedError(" ".join(found[-1][1].split()))
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return RiverbedError(f"{doing} failed: {first}", hint="rerun with --debug for Spark's full error")
