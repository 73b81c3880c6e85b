"""The buzz pipeline: activity about a technology on GitHub, social posts and meetups -> what is
trending per window, and each item scored with the current MLlib model (its cluster).

Inputs: topics `github` (GitHub events), `posts` (Twitter v2 / Bluesky Jetstream) and `meetup`
(RSVPs), normalised by the parse step to one schema (see `normalise`). Outputs (serving store;
windows are tumbling, 1 minute by default; counts merge with "sum"):

    buzz_terms        window_start, window_end, term, count
    buzz_hashtags     window_start, window_end, hashtag, count
    buzz_repos        window_start, window_end, repo, count              GitHub events per repository
    buzz_event_types  window_start, window_end, type, count              GitHub events per type
    buzz_clusters     window_start, window_end, cluster, model_version, count
    buzz_scored       source, id -> time, author, text, cluster, model_version, batch_id, scored
                      every item with words, scored once (`scored` sums: 1 means exactly once)

The model is looked up at every micro-batch (`model.current_model`: one small pointer file read,
a load only when the version changed), so `riverbed train buzz` swaps it into the running stream
at the next micro-batch boundary; every row says which version scored it. Before any model is
trained, items are kept in buzz_scored with model_version "none" and no cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from riverbed.pipeline.definition import Output, Pipeline
from riverbed.pipeline.panels import Panel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

NO_MODEL = "none"
TEXT_KEPT = 500  # characters of each item's text kept in buzz_scored
#: What the dashboard draws: what trends in the newest window, and the clusters' sizes over time
PANELS = [
    Panel("top", "buzz_terms", title="trending terms", key="term", y=["count"]),
    Panel("top", "buzz_repos", title="trending repositories", key="repo", y=["count"]),
    Panel("top", "buzz_hashtags", title="hashtags", key="hashtag", y=["count"]),
    Panel("top", "buzz_event_types", title="event types", key="type", y=["count"]),
    Panel("timeseries", "buzz_clusters", title="cluster sizes over time", key="cluster", y=["count"]),
]


def parse(df: DataFrame) -> DataFrame:
    """Log records of any buzz topic -> the buzz schema (+ error, raw for records it cannot use)."""
    from riverbed.apps.buzz.parse import PARSED_DDL, parse_batches

    return df.select("value", "topic", "partition", "offset", "timestamp").mapInArrow(
        parse_batches, PARSED_DDL
    )


def _windowed(df: DataFrame, key: str, window: str, *extra: str) -> DataFrame:
    from pyspark.sql import functions as F

    return (
        df.groupBy(F.window("time", window).alias("w"), key, *extra)
        .agg(F.count(F.lit(1)).alias("count"))
        .select(F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"), key, *extra,
                "count")
    )


def score(df: DataFrame, home: Path, batch_id: int | None = None) -> DataFrame:
    """Items with words, with `cluster` and `model_version` from the current model (null / "none"
    before the first training) and the micro-batch id that scored them (-1 in batch mode)."""
    from pyspark.sql import functions as F

    from riverbed.apps.buzz.model import current_model

    items = df.where(F.size("terms") > 0).select("source", "id", "time", "author", "text")
    found = current_model(home)
    if found is None:
        scored = items.withColumn("cluster", F.lit(None).cast("int")).withColumn(
            "model_version", F.lit(NO_MODEL)
        )
    else:
        version, model = found
        scored = (
            model.transform(items)
            .select("source", "id", "time", "author", "text", F.col("cluster").cast("int").alias("cluster"))
            .withColumn("model_version", F.lit(version))
        )
    return scored.withColumn("batch_id", F.lit(-1 if batch_id is None else batch_id).cast("long"))


def build(
    github_topic: str = "github",
    posts_topic: str = "posts",
    meetup_topic: str = "meetup",
    topics: str | list[str] | None = None,
    window: str = "1 minute",
    lateness_ms: int = 600_000,
    model_home: str | Path | None = None,
    topic: str | None = None,
) -> Pipeline:
    """The buzz pipeline over its three topics (or `topics`: a list or comma-separated names;
    `topic`, as `riverbed run buzz --topic T` passes it, is the same); `model_home` is the riverbed
    home whose models/buzz/ it scores with (default: $RIVERBED_HOME, else ./.riverbed)."""
    from riverbed.config import resolve_home

    topics = topics if topics is not None else topic
    if topics is None:
        names = [github_topic, posts_topic, meetup_topic]
    else:
        names = [t.strip() for t in topics.split(",")] if isinstance(topics, str) else list(topics)
    model_home = resolve_home(model_home)
    current_batch: list[int | None] = [None]

    def remember_batch(_df: DataFrame, batch_id: int) -> None:
        current_batch[0] = batch_id  # read by the transform that runs right after, on this thread

    def transform(df: DataFrame) -> dict[str, DataFrame]:
        from pyspark.sql import functions as F

        batch_id, current_batch[0] = current_batch[0], None
        scored = score(df, model_home, batch_id)
        github = df.where(F.col("source") == "github")
        return {
            "buzz_terms": _windowed(df.select("time", F.explode("terms").alias("term")), "term", window),
            "buzz_hashtags": _windowed(
                df.select("time", F.explode("hashtags").alias("hashtag")), "hashtag", window
            ),
            "buzz_repos": _windowed(github.where(F.col("repo").isNotNull()), "repo", window),
            "buzz_event_types": _windowed(github, "type", window),
            "buzz_clusters": _windowed(scored.where(F.col("cluster").isNotNull()), "cluster", window,
                                       "model_version"),
            "buzz_scored": scored.select(
                "source", "id", "time", "author", F.substring("text", 1, TEXT_KEPT).alias("text"),
                "cluster", "model_version", "batch_id", F.lit(1).cast("long").alias("scored"),
            ),
        }

    count = {"count": "sum"}
    win = ["window_start", "window_end"]
    return Pipeline(
        name="buzz",
        topics=names,
        parse=parse,
        transform=transform,
        outputs=[
            Output("buzz_terms", keys=[*win, "term"], measures=count),
            Output("buzz_hashtags", keys=[*win, "hashtag"], measures=count),
            Output("buzz_repos", keys=[*win, "repo"], measures=count),
            Output("buzz_event_types", keys=[*win, "type"], measures=count),
            Output("buzz_clusters", keys=[*win, "cluster", "model_version"], measures=count),
            Output("buzz_scored", keys=["source", "id"], measures={"scored": "sum"}),
        ],
        event_time="time",
        lateness_ms=lateness_ms,
        foreach_batch=remember_batch,
        panels=PANELS,
        description="GitHub events, social posts, meetups -> trending terms/hashtags/repos, model clusters",
    )
