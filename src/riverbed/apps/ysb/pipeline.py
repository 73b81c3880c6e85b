"""The Yahoo Streaming Benchmark query as a riverbed pipeline: keep `view` events, project
(ad_id, event_time), look up ad -> campaign (the generator's 1,000-row table for the same seed, as a
literal map instead of YSB's Redis), count per campaign per 10 s tumbling event-time window.

Output (serving store table):
    ysb_counts  campaign_id, window_start, window_end, count (merged "sum"),
                updated_ms (wall-clock ms when the row was last committed to the store)
YSB's latency of a window is updated_ms - window_end, in ms (its last update after the window closed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from riverbed.pipeline.definition import Output, Pipeline

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

FIELDS = ("user_id", "page_id", "ad_id", "ad_type", "event_type", "event_time", "ip_address")
JSON_DDL = ", ".join(f"{f} string" for f in FIELDS)


def _parse_columns(decoded: bool) -> tuple[list[Column], list[Column]]:
    """The parse's two projections (see `parse`), built once per JVM (`riverbed.spark.columns`)."""
    from pyspark.sql import functions as F

    raw = F.col("value").cast("string")
    # the log's append `timestamp` is kept (as the other apps keep it): the stream then observes the
    # records' ages on the parsed rows (riverbed.pipeline.stream) and the lake keeps it
    first = [F.col("topic"), F.col("partition"), F.col("offset"), F.col("timestamp"), raw.alias("raw"),
             F.col("json").alias("e") if decoded else F.from_json(raw, JSON_DDL).alias("e"),
             F.col("json_error").alias("je") if decoded else F.lit(None).cast("string").alias("je")]
    ms = F.col("e.event_time").try_cast("bigint")
    missing = [F.when(F.col(f"e.{f}").isNull(), F.lit(f)) for f in ("ad_id", "event_type", "event_time")]
    error = (
        F.when(F.col("raw").isNull() | (F.col("raw") == ""), F.lit("ysb: empty record"))
        .when(F.col("je").isNotNull() | F.col("e").isNull()
              | F.coalesce(*[F.col(f"e.{f}") for f in FIELDS]).isNull(),
              F.lit("ysb: not a JSON object with YSB's fields"))
        .when(F.concat_ws(",", *missing) != "",
              F.concat(F.lit("ysb: missing field(s) "), F.concat_ws(",", *missing)))
        .when(ms.isNull(), F.concat(F.lit("ysb: event_time is not epoch ms: "), F.col("e.event_time")))
    )
    second = [F.col("topic"), F.col("partition"), F.col("offset"), F.col("timestamp"),
              *[F.col(f"e.{f}").alias(f) for f in FIELDS if f != "event_time"],
              F.timestamp_millis(ms).alias("event_time"), error.alias("error"), F.col("raw")]
    return first, second


def parse(df: DataFrame) -> DataFrame:
    """Log records -> the event's string fields with event_time as a timestamp (+ the log's
    timestamp, error, raw).

    Reads the `json` column when the log source decoded the values (the pipeline's value_schema),
    else decodes them here with from_json."""
    from riverbed.spark.columns import reusable

    decoded = "json" in df.columns
    first, second = reusable(("ysb.parse", decoded), lambda: _parse_columns(decoded))
    return df.select(*first).select(*second)


def _count_columns(seed: int) -> dict[str, Any]:
    """The transform's expressions (see `build`), built once per JVM and seed."""
    from pyspark.sql import functions as F

    from riverbed.apps.ysb.generator import YsbGenerator

    pairs = YsbGenerator(seed).mapping_rows()
    quote = lambda x: "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"  # noqa: E731
    quoted = ", ".join(quote(x) for pair in pairs for x in pair)
    campaigns = F.expr(f"map({quoted})")  # one call, where create_map(lit, ...) makes 2,000 objects
    return {
        "view": F.col("event_type") == "view", "ad_id": F.col("ad_id"),
        "window": F.window("event_time", "10 seconds").alias("w"), "n": F.count(F.lit(1)).alias("n"),
        "campaign": F.element_at(campaigns, F.col("ad_id")).alias("campaign_id"),
        "w": F.col("w"), "per_ad": F.col("n"), "campaign_id": F.col("campaign_id"),
        "count": F.sum("n").alias("count"),
        "out": [F.col("campaign_id"), F.col("w.start").alias("window_start"),
                F.col("w.end").alias("window_end"), F.col("count")],
    }


def build(
    topic: str = "ad-events", seed: int = 0, lateness_ms: int = 60_000, keep_lake: bool = True
) -> Pipeline:
    """The YSB pipeline over `topic`; `seed` must be the generator's (it fixes the ad -> campaign table);
    `keep_lake=False` skips the lake (YSB itself keeps no master dataset)."""
    def transform(df: DataFrame) -> dict[str, DataFrame]:
        from riverbed.spark.columns import reusable

        c = reusable(("ysb.transform", seed), lambda: _count_columns(seed))
        # Count per (ad, window) first, then look the campaign up for the few thousand (ad, window)
        # rows and add up per campaign: the lookup costs per ad, not per event (a lookup in a
        # literal map scans it). A broadcast join of the 1,000-row table instead costs a broadcast
        # job in every micro-batch, ~0.15 s whatever the batch size.
        per_ad = df.where(c["view"]).groupBy(c["ad_id"], c["window"]).agg(c["n"])
        counts = (per_ad.select(c["campaign"], c["w"], c["per_ad"])
                  .groupBy(c["campaign_id"], c["w"]).agg(c["count"]).select(*c["out"]))
        return {"ysb_counts": counts}

    return Pipeline(
        name="ysb",
        topics=[topic],
        parse=parse,
        transform=transform,
        outputs=[Output("ysb_counts", keys=["campaign_id", "window_start", "window_end"],
                        measures={"count": "sum"}, stamp="updated_ms")],
        event_time="event_time",
        lateness_ms=lateness_ms,
        description="Yahoo Streaming Benchmark: views per campaign per 10 s window, with update times",
        value_schema=JSON_DDL,
        keep_lake=keep_lake if isinstance(keep_lake, bool) else str(keep_lake).lower() != "false",
    )
