"""Multi-line records: which lines without a timestamp continue the record before them.

A line with no time of its own continues the previous record of its source (topic partition,
file) when
- that record's first line states its time (the classic case: a message spread over lines), or
- the line looks like a continuation whatever came before (`looks_continued`): blank, indented,
  `at ...`, `... 12 more`, `Caused by:`, `Suppressed:`, `Traceback (most recent call last):`,
  or an exception line `java.io.IOException: ...` / `ValueError: ...`.
Any other line without a time is a record of its own, counted at its log append time.

Where the previous line is unknown -- the first line a Spark task reads of a partition, past its
start -- only the shape can tell: a continuation-shaped line there continues a record whose first
line an earlier micro-batch already counted. It is kept (in the lake, flagged `continuation`) and
never counted again, so stream and batch count every record exactly once however the log is cut
into micro-batches.
"""

from __future__ import annotations

import re

_CONTINUED = re.compile(
    r"\s|at\s|\.\.\.\s*\d+\s+more|Caused by:|Suppressed:|Traceback \(most recent call last\)"
    r"|[\w$.]*(?:Exception|Error|Throwable)(?::|$)"
    r"|[}\])]"
)


def looks_continued(line: str) -> bool:
    """True when a line (trailing whitespace kept or not) has the shape of a continuation line."""
    return not line.strip() or _CONTINUED.match(line) is not None
