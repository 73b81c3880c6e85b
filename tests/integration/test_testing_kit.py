"""riverbed.testing's kit: assert_stream_equals_batch passes a pipeline whose stream and batch agree
and fails one whose merge rule is wrong; the pytest plugin offers `riverbed_spark`."""

from __future__ import annotations

import pytest

from riverbed import Output, Pipeline, parse
from riverbed.testing import assert_stream_equals_batch

pytestmark = [pytest.mark.spark, pytest.mark.slow]
LINES = ["alice,10.5", "bob,3", "alice,2", "oops", "carol,1", "bob,4.25", "alice,1"]


def totals(df):
    from pyspark.sql import functions as F

    per_minute = df.groupBy(F.window("time", "1 minute").start.alias("window_start"), "user")
    return {"totals": per_minute.agg(F.sum("amount").alias("total"), F.count("*").alias("payments"))}


def shop(merge: str) -> Pipeline:
    return Pipeline(name="shop", topics=["payments"], parse=parse.csv("user string, amount double"),
                    transform=totals, outputs=[Output("totals", keys=["window_start", "user"],
                                                      measures={"total": merge, "payments": merge})])


def test_stream_equals_batch_for_a_mergeable_pipeline(spark) -> None:
    result = assert_stream_equals_batch(shop("sum"), LINES, batch_size=2, spark=spark)
    per_user: dict[str, float] = {}
    for r in result.rows("totals"):
        per_user[r["user"]] = per_user.get(r["user"], 0) + r["total"]
    assert per_user == {"alice": 13.5, "bob": 7.25, "carol": 1.0}
    assert result.micro_batches == 4 and [d["value"] for d in result.dead_letters] == ["oops"]


def test_a_wrong_merge_rule_is_caught(spark) -> None:
    with pytest.raises(AssertionError, match="the stream's rows differ from the batch's"):
        assert_stream_equals_batch(shop("replace"), LINES, batch_size=2, spark=spark)


def test_the_pytest_plugin_offers_riverbed_spark(pytestconfig) -> None:
    assert pytestconfig.pluginmanager.has_plugin("riverbed"), "the pytest11 entry point is not installed"
    from riverbed.testing import pytest_plugin

    assert hasattr(pytest_plugin, "riverbed_spark")
