"""A record that makes the user's code raise is dead-lettered; the micro-batch goes on without it.

When a micro-batch fails, the batch's parse and transform are run again without side effects (a
`noop` write of every column) over halves of the batch, then halves of the failing halves, down to
the single records that fail on their own (bisection: about log2(n) jobs per bad record). Those
records go to `<topic>.dlq` with the error's one-line reason and their origin, and the micro-batch
is processed again without them. An error that is not about one record is not dead-lettered: when
the dry run over the whole batch passes (a store or disk error) or no single record fails alone (an
error about a group), the original error is raised; when more than MAX_BAD records fail alone (a
bug that fails every row), `CodeError` stops the run with one line naming the first of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from riverbed.errors import CodeError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: more records than this failing alone in one micro-batch: the error is the code's, not the data's
MAX_BAD = 5
ID = "_rb_row"


def is_candidate(error: BaseException) -> bool:
    """Could `error` come from one record? Not a plan error (a wrong column name: every record
    fails the same way before any row is read), not riverbed's own errors, not an interrupt."""
    from riverbed.errors import RiverbedError

    if isinstance(error, RiverbedError | KeyboardInterrupt):
        return False
    name = type(error).__name__
    return name not in ("AnalysisException", "ParseException", "IllegalArgumentException")


def reason(error: BaseException) -> str:
    """The error in one line: Spark's error class and message, or a Python UDF's last line."""
    text = str(error)
    py = re.findall(r"^(\w+(?:Error|Exception): .+)$", text, re.M)
    if ("PythonException" in text or type(error).__name__ == "PythonException") and py:
        return py[-1][:300]
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
    first = re.sub(r"\s*SQLSTATE: \w+\s*$", "", first)
    return first[:300]


Failing = list[tuple[int, str]]


def find_failing(df: DataFrame, dry_run: Callable[[DataFrame], None]) -> tuple[DataFrame, Failing]:
    """`df` with a row id column, and the (row id, reason) of each record `dry_run` fails on alone.

    Returns no records when the whole batch passes the dry run or no single record fails (the
    caller then raises the original error); raises CodeError when more than MAX_BAD fail alone."""
    from pyspark.sql import functions as F

    indexed = df.withColumn(ID, F.monotonically_increasing_id()).persist()
    ids = sorted(r[0] for r in indexed.select(ID).collect())

    def attempt(lo: int, hi: int) -> BaseException | None:
        part = indexed.where(F.col(ID).between(ids[lo], ids[hi - 1])).drop(ID)
        try:
            dry_run(part)
        except Exception as e:  # the user's code raising on this part
            return e
        return None

    bad: list[tuple[int, str]] = []

    def search(lo: int, hi: int, error: BaseException) -> None:
        if len(bad) > MAX_BAD:
            return
        if hi - lo == 1:
            bad.append((ids[lo], reason(error)))
            return
        mid = (lo + hi) // 2
        for a, b in ((lo, mid), (mid, hi)):
            e = attempt(a, b)
            if e is not None and is_candidate(e):
                search(a, b, e)

    if ids:
        whole = attempt(0, len(ids))
        if whole is not None and is_candidate(whole):
            search(0, len(ids), whole)
    if len(bad) > MAX_BAD:
        origin = indexed.where(F.col(ID) == bad[0][0]).select("topic", "partition", "offset").first()
        indexed.unpersist()
        raise CodeError(
            f"the pipeline's code fails on every record tried alone ({len(bad)} of {len(ids)} in the "
            f"micro-batch), the first at {origin['topic']}/{origin['partition']}/{origin['offset']}: "
            f"{bad[0][1]}", hint="a bug in the parse or the transform, not bad data: fix it and run again")
    return indexed, bad


def dead_letter(indexed: DataFrame, bad: list[tuple[int, str]], log_url: str, source: str) -> None:
    """Write the failing records (their original bytes) to `<topic>.dlq` with reason and origin."""
    from pyspark.sql import functions as F

    from riverbed.dlq import dead_letter_record, write_dead_letters
    from riverbed.log import open_log

    reasons = dict(bad)
    rows = indexed.where(F.col(ID).isin(list(reasons))).select(
        ID, "key", "value", "topic", "partition", "offset").collect()
    by_topic: dict[str, list[Any]] = {}
    for r in rows:
        rec = dead_letter_record(
            None if r["value"] is None else bytes(r["value"]),
            f"error in the pipeline's code: {reasons[r[ID]]}", source,
            key=None if r["key"] is None else bytes(r["key"]),
            origin=f"{r['topic']}/{r['partition']}/{r['offset']}")
        by_topic.setdefault(r["topic"], []).append(rec)
    with open_log(log_url) as log:
        for topic, recs in by_topic.items():
            write_dead_letters(log, topic, recs)
