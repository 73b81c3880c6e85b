"""The logwatch pipeline: server log lines in; counts per level and component, top error templates
and alerts out — one definition run as a stream over the log and as a batch over the lake.

Outputs (serving store tables):
    level_counts      window_start, window_end, level, count        10 s tumbling windows
    component_counts  window_start, window_end, component, count    1 min windows sliding every 10 s
    top_errors        window_start, window_end, template, count     ERROR/FATAL lines per 1 min window
    component_errors  window_start, window_end, component, count    ERROR/FATAL lines per 1 min window
    alerts            window_start, window_end, component, count, baseline
                      component_errors rows whose count exceeds the component's baseline
                      (mean + k·stddev of its errors per window, learned by `train` over the lake)
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from riverbed.pipeline.definition import Output, Pipeline
from riverbed.pipeline.panels import Panel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from riverbed.store import SqliteStore

ERROR_LEVELS = ("ERROR", "FATAL")
BASELINE_TABLE = "logwatch_baseline"

# run after every merge and after training: alerts are component_errors above their baseline
REFRESH_ALERTS = (
    "DELETE FROM alerts",
    f"""INSERT INTO alerts SELECT e.window_start, e.window_end, e.component, e.count, b.baseline
        FROM component_errors e JOIN {BASELINE_TABLE} b ON b.component = e.component
        WHERE e.count > b.baseline""",
)

LEVEL_COLORS = {"FATAL": "#7f1d1d", "ERROR": "#dc2626", "WARN": "#d97706", "WARNING": "#d97706",
                "NOTICE": "#7c3aed", "INFO": "#2563eb", "DEBUG": "#94a3b8"}
FIVE_MINUTES = 5 * 60_000

ALERTS_SPEC_COLUMNS = [
    ("window_start", "INTEGER"), ("window_end", "INTEGER"), ("component", "TEXT"),
    ("count", "INTEGER"), ("baseline", "REAL"),
]


def parse(df: DataFrame, tz: str = "UTC") -> DataFrame:
    """Log records -> time, level, component, message, template, format, time_source, level_source,
    continuation (+ error, raw for bad lines); times without a zone are read in zone `tz`."""
    from riverbed.apps.logwatch.arrow import PARSED_DDL, parse_batches

    fn = parse_batches if tz == "UTC" else partial(parse_batches, tz=tz)
    return df.select("value", "topic", "partition", "offset", "timestamp").mapInArrow(fn, PARSED_DDL)


def _windowed(df: DataFrame, key: str, duration: str, slide: str | None = None) -> DataFrame:
    from pyspark.sql import functions as F

    w = F.window("time", duration, slide) if slide else F.window("time", duration)
    return (
        df.groupBy(w.alias("w"), key)
        .agg(F.count(F.lit(1)).alias("count"))
        .select(F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"), key, "count")
    )


def build(
    topic: str = "logs",
    level_window: str = "10 seconds",
    component_window: str = "1 minute",
    component_slide: str = "10 seconds",
    error_window: str = "1 minute",
    lateness_ms: int = 60_000,
    tz: str = "UTC",
) -> Pipeline:
    """The logwatch pipeline over `topic`; window sizes are parameters (a Kappa reprocess can change them);
    `tz` is the zone of log times that state none."""

    def transform(df: DataFrame) -> dict[str, DataFrame]:
        from pyspark.sql import functions as F

        if "continuation" in df.columns:  # lines of a record counted in an earlier micro-batch
            df = df.where(~F.col("continuation"))
        errors = df.where(F.col("level").isin(*ERROR_LEVELS))
        return {
            "level_counts": _windowed(df, "level", level_window),
            "component_counts": _windowed(df, "component", component_window, component_slide),
            "top_errors": _windowed(errors, "template", error_window),
            "component_errors": _windowed(errors, "component", error_window),
        }

    def setup_store(store: SqliteStore) -> None:
        from riverbed.store import OutputSpec

        store.execute_script(
            f"""CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} (
                component TEXT PRIMARY KEY, mean REAL, stddev REAL, baseline REAL,
                windows INTEGER, k REAL, trained_at INTEGER)"""
        )
        store.ensure_output(
            "logwatch",
            OutputSpec("alerts", ALERTS_SPEC_COLUMNS, ["window_start", "component"],
                       time_columns=["window_start", "window_end"]),
        )
        # the derived SQL reads component_errors: make sure it exists before the first merge
        store.ensure_output(
            "logwatch",
            OutputSpec("component_errors", ALERTS_SPEC_COLUMNS[:4],
                       ["window_start", "window_end", "component"], {"count": "sum"},
                       ["window_start", "window_end"]),
        )

    count = {"count": "sum"}
    return Pipeline(
        name="logwatch",
        topics=[topic],
        parse=parse if tz == "UTC" else partial(parse, tz=tz),
        transform=transform,
        outputs=[
            Output("level_counts", keys=["window_start", "window_end", "level"], measures=count),
            Output("component_counts", keys=["window_start", "window_end", "component"], measures=count),
            Output("top_errors", keys=["window_start", "window_end", "template"], measures=count),
            Output("component_errors", keys=["window_start", "window_end", "component"], measures=count),
        ],
        event_time="time",
        lateness_ms=lateness_ms,
        derived_sql=REFRESH_ALERTS,
        setup_store=setup_store,
        description="server logs -> counts per level and component, top error templates, alerts",
        panels=panels(level_window),
    )


def panels(level_window: str = "10 seconds") -> list[Panel]:
    """What the dashboard draws: lines per level over time, the top error templates and the
    components with most errors over the newest 5 minutes, and the alerts as they fire."""
    return [
        Panel("timeseries", "level_counts", title=f"lines per {level_window} window, by level", key="level",
              y=["count"], span_ms=FIVE_MINUTES, styles=LEVEL_COLORS),
        Panel("top", "top_errors", title="top error templates (5 min)", key="template", y=["count"],
              span_ms=FIVE_MINUTES),
        Panel("top", "component_errors", title="errors by component (5 min)", key="component", y=["count"],
              span_ms=FIVE_MINUTES),
        Panel("table", "alerts", title="alerts", x="window_start",
              columns=["window_start", "window_end", "component", "count", "baseline"], limit=50,
              note="windows whose errors beat the component's baseline (mean + k·stddev)"),
    ]
