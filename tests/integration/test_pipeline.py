"""A user-defined pipeline through every sink and hook: store, topic, console, the per-micro-batch
function, and a time-bounded batch. The same transform runs as a stream and as a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riverbed.log import TopicConfig, open_log
from riverbed.pipeline import Output, Pipeline
from riverbed.pipeline.runner import Runner

T0 = 1_467_849_600_000  # 2016-07-07T00:00:00Z


def parse(df):
    from pyspark.sql import functions as F

    schema = "user STRING, kind STRING, t LONG"
    j = F.from_json(F.col("value").cast("string"), schema)
    ok = j.isNotNull() & j["t"].isNotNull()
    return df.select(
        j["user"].alias("user"),
        j["kind"].alias("kind"),
        F.timestamp_millis(j["t"]).alias("time"),
        F.when(ok, F.lit(None)).otherwise(F.lit("not a JSON event with t")).alias("error"),
        F.col("value").alias("raw"),
        "topic", "partition", "offset",
    )


def transform(df):
    from pyspark.sql import functions as F

    per_min = df.groupBy(F.window("time", "1 minute").alias("w"), "kind").agg(F.count(F.lit(1)).alias("n"))
    return {
        "kind_counts": per_min.select(F.col("w.start").alias("window_start"), "kind", "n"),
        "clicks": df.where(F.col("kind") == "click").select("user", "time"),
        "sample": df.select("user", "kind"),
    }


def pipeline(seen_batches: list[int]) -> Pipeline:
    return Pipeline(
        name="clicks",
        topics=["events"],
        parse=parse,
        transform=transform,
        outputs=[
            Output("kind_counts", keys=["window_start", "kind"], measures={"n": "sum"}),
            Output("clicks", sink="topic", topic="clicks"),
            Output("sample", sink="console"),
        ],
        lateness_ms=10**12,
        foreach_batch=lambda df, batch_id: seen_batches.append(batch_id),
    )


EVENTS = [
    {"user": f"u{i % 7}", "kind": "click" if i % 3 == 0 else "view", "t": T0 + i * 7_000} for i in range(60)
]


@pytest.fixture
def filled(tmp_path: Path) -> str:
    url = f"embedded://{tmp_path / 'log'}"
    with open_log(url) as log:
        log.create_topic("events", TopicConfig(partitions=1))
        log.create_topic("clicks", TopicConfig(partitions=1))
        log.append_values("events", [json.dumps(e).encode() for e in EVENTS] + [b"{broken"])
    return url


def expected_counts(events: list[dict]) -> list[dict]:
    out: dict[tuple[int, str], int] = {}
    for e in events:
        key = (e["t"] - e["t"] % 60_000, e["kind"])
        out[key] = out.get(key, 0) + 1
    return [{"window_start": s, "kind": k, "n": n} for (s, k), n in sorted(out.items())]


def test_every_sink_and_hook_in_stream_mode(spark, tmp_path: Path, filled: str, capsys) -> None:
    seen: list[int] = []
    runner = Runner(pipeline(seen), log=filled, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=25)
    handle.wait(300)
    assert seen == [s.batch_id for s in handle.history] and len(seen) >= 3
    assert runner.store.rows("kind_counts") == expected_counts(EVENTS)
    recorded = runner.store.pipeline_spec("clicks")  # the run recorded it in the catalogue
    assert recorded["topics"] == ["events"] and recorded["source"]["module"] == __name__
    assert [(o["name"], o["sink"], o["time"]) for o in recorded["outputs"]] == [
        ("kind_counts", "store", "window_start"), ("clicks", "topic", None), ("sample", "console", None)]
    with open_log(filled) as log:
        clicks = [json.loads(r.value) for r in log.read("clicks", 0, 0, 1000)]
        dead = log.read("events.dlq", 0, 0, 10)
    assert sorted(c["user"] for c in clicks) == sorted(e["user"] for e in EVENTS if e["kind"] == "click")
    assert [d.value for d in dead] == [b"{broken"]
    assert "-- sample (batch 0) --" in capsys.readouterr().out


def test_batch_between_times_uses_the_same_transform(spark, tmp_path: Path, filled: str) -> None:
    runner = Runner(pipeline([]), log=filled, home=tmp_path, spark=spark)
    lo, hi = T0 + 60_000, T0 + 180_000
    result = runner.batch(source="log", time_from=lo, time_to=hi)
    inside = [e for e in EVENTS if lo <= e["t"] < hi]
    assert result.records == len(inside) and result.bad == 1
    assert runner.store.rows("kind_counts") == expected_counts(inside)
