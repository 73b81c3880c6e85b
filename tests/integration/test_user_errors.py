"""A bug in a user's function on one record dead-letters that record; it never kills the stream.
An error that is not about one record (every record fails; a wrong column) stops the run."""

from __future__ import annotations

import pytest

from riverbed import Output, Pipeline
from riverbed.testing import run_pipeline

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def ansi_parse(df):
    """The parse a new user writes: `split(...)[1]` throws under ANSI mode on a line without a comma."""
    from pyspark.sql import functions as F

    parts = F.split(F.col("value").cast("string"), ",")
    return df.select("topic", "partition", "offset", "timestamp", parts[0].alias("user"),
                     parts[1].cast("double").alias("amount"), F.col("timestamp").alias("time"),
                     F.lit(None).cast("string").alias("error"), F.col("value").cast("string").alias("raw"))


def totals(df):
    from pyspark.sql import functions as F

    return {"totals": df.groupBy("user").agg(F.sum("amount").alias("total"), F.count("*").alias("n"))}


def pipeline(parse=ansi_parse, transform=totals) -> Pipeline:
    return Pipeline(name="pay", topics=["payments"], parse=parse, transform=transform,
                    outputs=[Output("totals", keys=["user"], measures={"total": "sum", "n": "sum"})],
                    event_time="time")


def test_an_ansi_error_on_one_line_dead_letters_it_and_the_stream_goes_on(spark) -> None:
    lines = ["alice,10", "bob,3", "no comma here", "alice,2", "carol,1", "bob,4", "again no comma"]
    result = run_pipeline(pipeline(), lines, mode="stream", batch_size=3, spark=spark)
    assert {r["user"]: (r["total"], r["n"]) for r in result.rows("totals")} == {
        "alice": (12.0, 2), "bob": (7.0, 2), "carol": (1.0, 1)}
    dead = sorted((d["value"], d["reason"], d["origin"]) for d in result.dead_letters)
    assert [(v, o) for v, _, o in dead] == [
        ("again no comma", "payments/0/6"), ("no comma here", "payments/0/2")]
    for _, why, _ in dead:
        assert why.startswith("error in the pipeline's code: ") and "INVALID_ARRAY_INDEX" in why, why
        assert "\n" not in why and len(why) < 400
    assert result.records == 7 and result.micro_batches == 3


def test_a_python_udf_raising_on_one_record_dead_letters_it(spark) -> None:
    def transform(df):
        from pyspark.sql import functions as F

        inverse = F.udf(lambda x: 1 / x, "double")
        return totals(df.withColumn("amount", inverse("amount")))

    result = run_pipeline(pipeline(transform=transform), ["a,2", "b,0", "a,4"], mode="stream", spark=spark)
    assert {r["user"]: r["total"] for r in result.rows("totals")} == {"a": 0.75}
    assert [(d["value"], d["reason"]) for d in result.dead_letters] == [
        ("b,0", "error in the pipeline's code: ZeroDivisionError: float division by zero")]


def test_a_bug_failing_every_record_stops_the_run(spark) -> None:
    def transform(df):
        from pyspark.sql import functions as F

        broken = F.udf(lambda x: 1 / 0, "double")
        return totals(df.withColumn("amount", broken("amount")))

    lines = [f"u{i},{i}" for i in range(40)]
    with pytest.raises(Exception) as caught:
        run_pipeline(pipeline(transform=transform), lines, mode="stream", spark=spark)
    message = str(caught.value)
    assert "the pipeline's code fails on every record tried alone" in message, message
    assert "the first at payments/0/" in message and "ZeroDivisionError: division by zero" in message


def test_a_wrong_column_stops_the_run_at_once(spark) -> None:
    def transform(df):
        from pyspark.sql import functions as F

        return {"totals": df.groupBy("usr").agg(F.sum("amount").alias("total"), F.count("*").alias("n"))}

    with pytest.raises(Exception, match="usr"):
        run_pipeline(pipeline(transform=transform), ["a,1"], mode="stream", spark=spark)
