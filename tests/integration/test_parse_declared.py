"""Declarative parse steps (riverbed.parse): typed fields, the event time from a field or the log,
and one clear reason per bad record, never an exception (ANSI casts, missing fields, no match)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from riverbed import Output, Pipeline, parse
from riverbed.errors import InvalidArgument
from riverbed.testing import run_pipeline

pytestmark = pytest.mark.spark
T0 = dt.datetime(2016, 7, 7, tzinfo=dt.UTC)


def parsed(spark, step, values: list[str | None]) -> list[dict]:
    """`step` over log rows holding `values` (offsets 0..n-1, log time T0)."""
    rows = [
        (None if v is None else v.encode(), "t", 0, i, T0.replace(tzinfo=None)) for i, v in enumerate(values)
    ]
    df = spark.createDataFrame(
        rows, "value binary, topic string, partition int, offset long, timestamp timestamp"
    )
    return [r.asDict() for r in step(df).orderBy("offset").collect()]


def test_csv_typed_fields_decimals_and_reasons(spark) -> None:
    step = parse.csv("user string, amount decimal(12,2)")
    out = parsed(spark, step, ["alice,10.50", "bob", "carol,abc", " dan , 3 ", ",5", None, "eve,1,extra"])
    assert [(r["user"], r["amount"], r["error"]) for r in out] == [
        ("alice", Decimal("10.50"), None),
        ("bob", None, "expected 2 fields, got 1"),
        ("carol", None, "amount: abc is not a decimal(12,2)"),
        ("dan", Decimal("3.00"), None),
        (None, Decimal("5.00"), "user is missing"),
        (None, None, "the record has no value"),
        ("eve", Decimal("1.00"), None),
    ]
    assert out[0]["raw"] == "alice,10.50" and out[0]["time"] == T0.replace(tzinfo=None)
    assert list(out[0]) == [
        "topic",
        "partition",
        "offset",
        "timestamp",
        "user",
        "amount",
        "time",
        "error",
        "raw",
    ]


def test_json_event_time_from_a_field(spark) -> None:
    step = parse.json("user string, n int, t long", event_time="t", time_format="epoch_ms")
    ms = 1_467_849_660_000
    out = parsed(
        spark,
        step,
        [
            f'{{"user":"a","n":3,"t":{ms}}}',
            "not json",
            '{"user":"b","t":1}',
            f'{{"user":"c","n":"x","t":{ms}}}',
            "[1,2]",
            '{"user":"d","n":1,"t":"soon"}',
        ],
    )
    assert [(r["user"], r["n"], r["error"]) for r in out] == [
        ("a", 3, None),
        (None, None, "not a JSON object"),
        ("b", None, "n is missing"),
        ("c", None, "n: x is not a int"),
        (None, None, "not a JSON object"),
        ("d", 1, "t: soon is not a long"),
    ]
    assert out[0]["t"] == dt.datetime(2016, 7, 7, 0, 1)
    assert step.event_time == "t"


def test_regex_and_text(spark) -> None:
    step = parse.regex(r"^(\w+) paid (\S+)$", "user string, amount double")
    out = parsed(spark, step, ["ann paid 2.5", "nobody here", "bo paid lots"])
    assert [(r["user"], r["amount"], r["error"]) for r in out] == [
        ("ann", 2.5, None),
        (None, None, "does not match the pattern"),
        ("bo", None, "amount: lots is not a double"),
    ]
    lines = parsed(spark, parse.text(), ["one line", ""])
    assert [(r["line"], r["error"]) for r in lines] == [("one line", None), ("", None)]


def test_declarations_are_checked_when_written() -> None:
    with pytest.raises(InvalidArgument, match="'amount' is not 'name type'"):
        parse.csv("user string, amount")
    with pytest.raises(InvalidArgument, match="event_time='when' is not one of the fields"):
        parse.csv("user string", event_time="when")
    with pytest.raises(InvalidArgument, match='time_format="epoch_ms"'):
        parse.json("t long", event_time="t")
    with pytest.raises(InvalidArgument, match="2 groups for 1 fields"):
        parse.regex(r"(a)(b)", "x string")
    with pytest.raises(InvalidArgument, match="not one of"):
        parse.csv("offset long")


def totals(df):
    from pyspark.sql import functions as F

    per_minute = df.groupBy(F.window("time", "1 minute").start.alias("window_start"), "user")
    return {"totals": per_minute.agg(F.sum("amount").alias("total"), F.count("*").alias("payments"))}


def test_a_declared_pipeline_streams_totals_and_dead_letters_bad_lines(spark) -> None:
    """A line that an `element_at` parse would throw on (no comma) is a dead letter with its reason;
    the stream goes on. (The serving store keeps decimal sums as REAL for now, hence the rounding.)"""
    p = Pipeline(
        name="shop",
        topics=["payments"],
        parse=parse.csv("user string, amount decimal(12,2)"),
        transform=totals,
        outputs=[
            Output("totals", keys=["window_start", "user"], measures={"total": "sum", "payments": "sum"})
        ],
    )
    assert p.event_time == "time"
    lines = ["alice,10.10", "bob,3", "alice,2.40", "no comma here", "bob,x", "alice,0.01"]
    result = run_pipeline(p, lines, mode="stream", batch_size=2, spark=spark)
    per_user: dict[str, tuple[float, int]] = {}
    for r in result.rows("totals"):
        t, n = per_user.get(r["user"], (0.0, 0))
        per_user[r["user"]] = (round(t + r["total"], 2), n + r["payments"])
    assert per_user == {"alice": (12.51, 3), "bob": (3.0, 1)}
    dead = sorted((d["value"], d["reason"]) for d in result.dead_letters)
    assert [v for v, _ in dead] == ["bob,x", "no comma here"], dead
    assert dead[0][1].endswith("amount: x is not a decimal(12,2)"), dead
    assert dead[1][1].endswith("expected 2 fields, got 1"), dead
    assert result.records == 6 and result.micro_batches == 3
