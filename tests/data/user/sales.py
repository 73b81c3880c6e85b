"""A user's own pipeline, kept outside riverbed's source (the tests copy it to a temp directory):
"user,amount" lines -> the total and the number of sales per user per 1-minute window, and per user
over all time. It declares no panels: the dashboard generates them."""

from __future__ import annotations

from riverbed.pipeline import Output, Pipeline


def parse(df):
    """Text "user,amount" -> user, amount, time (the record's log timestamp), error, raw."""
    from pyspark.sql import functions as F

    raw = F.col("value").cast("string")
    parts = F.split(raw, ",")
    amount = F.element_at(parts, 2).try_cast("double")
    bad = (F.size(parts) != 2) | amount.isNull() | (F.trim(F.element_at(parts, 1)) == "")
    return df.select(
        F.trim(F.element_at(parts, 1)).alias("user"), amount.alias("amount"),
        F.col("timestamp").alias("time"),
        F.when(bad, F.lit("not a user,amount line")).alias("error"), raw.alias("raw"),
        "topic", "partition", "offset",
    )


def transform(df):
    """Totals per user per minute, and per user."""
    from pyspark.sql import functions as F

    per_min = df.groupBy(F.window("time", "1 minute").alias("w"), "user").agg(
        F.sum("amount").alias("total"), F.count(F.lit(1)).alias("sales"))
    return {
        "sales_per_minute": per_min.select(F.col("w.start").alias("window_start"),
                                           F.col("w.end").alias("window_end"), "user", "total", "sales"),
        "sales_per_user": df.groupBy("user").agg(F.sum("amount").alias("total")),
    }


def build() -> Pipeline:
    """The user's pipeline over topic `sales`."""
    return Pipeline(
        name="sales",
        topics=["sales"],
        parse=parse,
        transform=transform,
        outputs=[
            Output("sales_per_minute", keys=["window_start", "window_end", "user"],
                   measures={"total": "sum", "sales": "sum"}),
            Output("sales_per_user", keys=["user"], measures={"total": "sum"}),
        ],
        event_time="time",
        description="user,amount lines -> totals per user per minute",
    )
