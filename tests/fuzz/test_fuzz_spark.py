"""One Spark-level check: generated mixed good/bad lines through the logwatch pipeline in batch mode
count exactly the lines the plain-Python parse accepts; the rest are dead letters, none lost."""

from __future__ import annotations

import random
import re

import pytest
from fuzzcount import cases
from strategies import REAL_LINES

from riverbed.apps.logwatch.parse import current_year, parse_line
from riverbed.dlq import read_dead_letters
from riverbed.errors import LogParseError
from riverbed.log import open_log
from riverbed.pipeline.runner import Runner

pytestmark = [pytest.mark.spark, pytest.mark.slow]



def mixed_lines(seed: int, n: int) -> list[bytes]:
    """Real lines of each format, and near misses of them: cut, a character changed, binary bytes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        line = rng.choice(REAL_LINES).encode()
        i = rng.randrange(len(line))
        kind = rng.randrange(6)
        if kind == 1:
            line = line[:i]
        elif kind == 2:
            line = line[:i] + bytes([rng.randrange(256)]) + line[i + 1:]
        elif kind == 3:
            line = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        elif kind == 4:
            line = line[:i] + b"\x00" + line[i:]
        out.append(line)
    return out


# the continuation shapes docs/logwatch.md lists, written out here (not imported from the parser)
_CONTINUED = re.compile(
    r"\s|at\s|\.\.\.\s*\d+\s+more|Caused by:|Suppressed:|Traceback \("
    r"|[\w$.]*(?:Exception|Error|Throwable)(?::|$)|[}\])]"
)


def expected_records(values: list[bytes], year: int) -> tuple[int, int]:
    """(records counted, undecodable lines) by the documented rules, in plain Python: a line stating
    its time starts a record; a line without one joins the record before it when that record states
    its time (or it has a continuation shape), else it is a record of its own (at its log time);
    lines that are not UTF-8 or hold NUL bytes are dead letters."""
    records = bad = 0
    last = None  # what the open record is: "timed", "untimed", "orphan" (continuation lines), None
    for v in values:
        try:
            text = v.decode("utf-8").rstrip()
        except UnicodeDecodeError:
            bad += 1
            continue
        if "\x00" in text:
            bad += 1
            continue
        try:
            parse_line(text, default_year=year)
        except LogParseError:
            pass
        else:
            records, last = records + 1, "timed"
            continue
        if last in ("timed", "orphan") or not text.strip() or _CONTINUED.match(text):
            last = last or "orphan"
            continue
        records, last = records + 1, "untimed"
    return records, bad


def test_logwatch_batch_counts_what_plain_python_parses(spark, tmp_path) -> None:
    values = mixed_lines(seed=9, n=400)  # one Spark batch run (~20 s): not a hypothesis loop
    cases("logwatch pipeline (Spark batch) lines", len(values))
    home = tmp_path
    url = f"embedded://{home / 'log'}"
    with open_log(url) as log:
        log.create_topic("logs")
        log.append_values("logs", values)
    year = current_year()
    records, bad = expected_records(values, year)
    runner = Runner("logwatch", log=url, home=home, spark=spark, lateness_ms=10**12)
    runner.batch(source="log")
    assert sum(r["count"] for r in runner.store.rows("level_counts")) == records
    with open_log(url) as log:
        dead = read_dead_letters(log, "logs")
    assert 0 < records < len(values) and bad > 0
    assert len(dead) in (0, bad)  # batch mode dead-letters the undecodable lines, if it does
    assert all(d.reason for d in dead)
