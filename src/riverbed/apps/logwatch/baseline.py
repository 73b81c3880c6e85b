"""logwatch's baseline model, learned in batch over the lake: per component, the mean and standard
deviation of its error count per window, over every window from the first to the last record kept
(windows without errors count as 0). A window's count above mean + k·stddev raises an alert."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from riverbed.apps.logwatch.pipeline import BASELINE_TABLE, ERROR_LEVELS, REFRESH_ALERTS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from riverbed.store import SqliteStore


def train_baseline(
    spark: SparkSession,
    home: Path,
    store: SqliteStore,
    *,
    window_seconds: int = 60,
    k: float = 3.0,
    pipeline: str = "logwatch",
    min_windows: int = 5,
) -> list[dict]:
    """Learn each component's error baseline from the lake and store it; returns the rows stored.

    With fewer than `min_windows` windows of data a mean and spread mean nothing: nothing is
    learned (and [] returned) until there is more.
    """
    from pyspark.sql import functions as F

    from riverbed.pipeline import locations
    from riverbed.pipeline.sinks import lake_path, read_lake

    if not locations.exists(lake_path(home, pipeline), spark):  # nothing kept yet: nothing to learn from
        return []
    df = read_lake(spark, home, pipeline)
    if "continuation" in df.columns:  # lines of a record an earlier micro-batch counted
        df = df.where(~F.col("continuation"))
    t = F.unix_millis("time")
    bounds = df.agg(F.min(t).alias("lo"), F.max(t).alias("hi")).first()
    if bounds is None or bounds["lo"] is None:
        return []
    w_ms = window_seconds * 1000
    n_windows = bounds["hi"] // w_ms - bounds["lo"] // w_ms + 1
    if n_windows < min_windows:
        return []
    per_window = (
        df.where(F.col("level").isin(*ERROR_LEVELS))
        .groupBy("component", (F.unix_millis("time") / F.lit(w_ms)).cast("long").alias("w"))
        .count()
    )
    stats = per_window.groupBy("component").agg(
        F.sum("count").alias("s"), F.sum(F.col("count") * F.col("count")).alias("ss")
    ).collect()
    now = time.time_ns() // 1_000_000
    rows = []
    for r in stats:
        mean = r["s"] / n_windows
        var = max(0.0, r["ss"] / n_windows - mean * mean)
        std = var**0.5
        rows.append(
            {"component": r["component"], "mean": mean, "stddev": std, "baseline": mean + k * std,
             "windows": n_windows, "k": k, "trained_at": now}
        )
    from riverbed.apps.logwatch.pipeline import build

    setup = build().setup_store
    assert setup is not None
    setup(store)
    store.put_rows(BASELINE_TABLE, rows, replace_all=True, derived=REFRESH_ALERTS)
    return rows
