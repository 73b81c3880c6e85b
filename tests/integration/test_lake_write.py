"""The lake write of a micro-batch: one directory per date and batch, replays replace their own
files, a batch spanning midnight is split by date; a store output's commit-time stamp; and the
settings micro-batches run with."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from riverbed.log import TopicConfig, open_log
from riverbed.pipeline import Output, Pipeline
from riverbed.pipeline.lake import write_batch
from riverbed.pipeline.runner import Runner

pytestmark = pytest.mark.spark
MIDNIGHT = 1_700_006_400_000  # 2023-11-15T00:00:00Z


def frame(spark, times: list[int]):
    from pyspark.sql import functions as F

    return spark.createDataFrame([(i, t) for i, t in enumerate(times)], "id long, ms long").select(
        "id", F.timestamp_millis("ms").alias("time")
    )


def lake_files(root: Path) -> dict[str, int]:
    """Parquet files per date=/batch_id= directory."""
    return {
        str(d.relative_to(root)): len(list(d.glob("*.parquet")))
        for d in sorted(root.glob("date=*/batch_id=*"))
    }


def write(spark, root: Path, times: list[int], batch_id: int) -> None:
    df = frame(spark, times)
    span = (min(times, default=None), max(times, default=None))
    write_batch(df, str(root), "time", batch_id, span=lambda: span)


def test_replays_replace_and_midnight_splits(spark, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    one_day = [MIDNIGHT + 1000 * i for i in range(10)]
    across = [MIDNIGHT - 5000 + 1000 * i for i in range(10)]  # 5 before midnight, 5 after
    write(spark, root, one_day, 0)
    write(spark, root, one_day, 0)  # a replay of batch 0
    write(spark, root, across, 1)
    write(spark, root, across, 1)  # a replay of batch 1
    write(spark, root, [], 2)  # nothing parsed: nothing written
    dirs = lake_files(root)
    assert set(dirs) == {
        "date=2023-11-15/batch_id=0", "date=2023-11-14/batch_id=1", "date=2023-11-15/batch_id=1"}
    assert all(n >= 1 for n in dirs.values())
    rows = spark.read.parquet(str(root)).collect()
    got = sorted((r["date"].isoformat(), r["batch_id"], r["id"]) for r in rows)
    want = sorted(
        [("2023-11-15", 0, i) for i in range(10)]
        + [("2023-11-14" if t < MIDNIGHT else "2023-11-15", 1, i) for i, t in enumerate(across)]
    )
    assert got == want
    assert not list((root / "_staging").glob("*"))


def test_lake_timestamps_are_parquet_micros_and_older_int96_files_still_read(spark, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    def physical(batch_id: int) -> tuple[str, str]:
        """(Arrow's type, Parquet's physical type) of the `time` column in the batch's first file."""
        f = pq.ParquetFile(next(root.glob(f"date=*/batch_id={batch_id}/*.parquet")))
        return str(f.schema_arrow.field("time").type), f.schema.column(1).physical_type

    root = tmp_path / "lake"
    write(spark, root, [MIDNIGHT + 1], 0)
    assert physical(0) == ("timestamp[us, tz=UTC]", "INT64")
    key = "spark.sql.parquet.outputTimestampType"
    before = spark.conf.get(key)
    spark.conf.set(key, "INT96")  # a lake written by an older riverbed, Spark's default then
    try:
        write(spark, root, [MIDNIGHT + 2002], 1)
    finally:
        spark.conf.set(key, before)
    assert physical(1)[1] == "INT96"
    rows = spark.read.parquet(str(root)).collect()
    got = sorted((r["batch_id"], int(r["time"].timestamp() * 1000)) for r in rows)
    assert got == [(0, MIDNIGHT + 1), (1, MIDNIGHT + 2002)]


def per_key_counts(tmp_path: Path, name: str, stamp: str | None = None) -> tuple[str, Pipeline]:
    """An embedded log with 30 JSON records over keys k0..k2, and a pipeline counting them per key."""
    from pyspark.sql import functions as F

    url = f"embedded://{tmp_path / 'log'}"
    with open_log(url) as log:
        log.create_topic("ev", TopicConfig(partitions=1))
        log.append_values("ev", [json.dumps({"k": f"k{i % 3}", "t": MIDNIGHT + i}).encode()
                                 for i in range(30)])

    def parse(df):
        j = F.from_json(F.col("value").cast("string"), "k string, t long")
        return df.select("topic", "partition", "offset", j["k"].alias("k"),
                         F.timestamp_millis(j["t"]).alias("time"), F.lit(None).cast("string").alias("error"),
                         F.col("value").alias("raw"))

    return url, Pipeline(
        name=name, topics=["ev"], parse=parse,
        transform=lambda df: {"per_k": df.groupBy("k").agg(F.count(F.lit(1)).alias("n"))},
        outputs=[Output("per_k", keys=["k"], measures={"n": "sum"}, stamp=stamp)],
    )


def test_stamp_column_holds_the_commit_time(spark, tmp_path: Path) -> None:
    appended_from = time.time_ns() // 1_000_000
    url, p = per_key_counts(tmp_path, "stamped", stamp="updated_ms")
    before = time.time_ns() // 1_000_000
    runner = Runner(p, log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=10)
    handle.wait(300)
    after = time.time_ns() // 1_000_000
    rows = runner.store.rows("per_k")
    got = [(r["k"], r["n"]) for r in sorted(rows, key=lambda r: r["k"])]
    assert got == [("k0", 10), ("k1", 10), ("k2", 10)]
    assert all(before <= r["updated_ms"] <= after for r in rows)
    # every key is touched by the last micro-batch: its stamp is the latest commit, not the first
    assert len({r["updated_ms"] for r in rows}) == 1 and len(handle.history) == 3
    # this parse drops the log's timestamp: the records' ages are observed on the source rows instead
    assert all(after - appended_from >= s.latency_p99_ms >= s.latency_p50_ms >= 0 for s in handle.history)


def test_a_failed_lake_write_leaves_the_batch_to_the_restart(spark, tmp_path: Path, monkeypatch) -> None:
    """The lake write comes before the store commit: when it fails, the query stops with nothing of
    that micro-batch in the store; the restart replays it, and the store and the lake hold every
    record once."""
    import riverbed.pipeline.stream as stream

    url, p = per_key_counts(tmp_path, "redo")
    real_write, calls = stream.write_lake, []

    def failing_second(*args, **kwargs):
        calls.append(args[4])  # the batch id
        if len(calls) == 2:
            raise OSError("disk gone (test)")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(stream, "write_lake", failing_second)
    runner = Runner(p, log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=10)
    with pytest.raises(Exception, match="riverbed-redo failed") as failed:
        handle.wait(300)
    assert "disk gone (test)" in str(failed.value.__cause__)  # Spark's error, with the Python traceback
    assert runner.store.last_batch("redo") == 0  # batch 1 never reached the store
    per_k = lambda: sorted((r["k"], r["n"]) for r in runner.store.rows("per_k"))  # noqa: E731
    assert per_k() == [("k0", 4), ("k1", 3), ("k2", 3)]  # batch 0's 10 records

    handle = Runner(p, log=url, home=tmp_path, spark=spark).start_stream(
        available_now=True, max_records_per_trigger=10)
    handle.wait(300)
    assert calls == [0, 1, 1, 2]  # batch 1 written again when Spark replays it
    assert [s.batch_id for s in handle.history] == [1, 2] and not handle.history[0].skipped
    assert per_k() == [("k0", 10), ("k1", 10), ("k2", 10)]
    lake = spark.read.parquet(str(tmp_path / "lake" / "redo"))
    assert lake.count() == 30 and lake.select("offset").distinct().count() == 30
    assert sorted(r["batch_id"] for r in lake.select("batch_id").distinct().collect()) == [0, 1, 2]


def test_micro_batches_run_without_adaptive_execution(spark, tmp_path: Path) -> None:
    """Each query's micro-batches run in Spark's clone of the session with AQE off and at most one
    shuffle partition per task slot; the user's session keeps its settings; the opt-out keeps AQE."""
    from riverbed.spark.session import MICROBATCH_ADAPTIVE, task_slots

    def settings_seen(name: str) -> list[tuple[str, int]]:
        url, p = per_key_counts(tmp_path / name, name)
        seen: list[tuple[str, int]] = []
        p = dataclasses.replace(p, foreach_batch=lambda df, _: seen.append(
            (df.sparkSession.conf.get("spark.sql.adaptive.enabled"),
             int(df.sparkSession.conf.get("spark.sql.shuffle.partitions")))))
        runner = Runner(p, log=url, home=tmp_path / name, spark=spark)
        runner.start_stream(available_now=True, max_records_per_trigger=10).wait(300)
        assert sorted((r["k"], r["n"]) for r in runner.store.rows("per_k")) == [
            ("k0", 10), ("k1", 10), ("k2", 10)]
        return seen

    cores = task_slots(spark)
    assert cores == 2  # local[2], where the default parallelism is 4
    outer = (spark.conf.get("spark.sql.adaptive.enabled"), spark.conf.get("spark.sql.shuffle.partitions"))
    spark.conf.set("spark.sql.shuffle.partitions", str(cores * 8))
    try:
        assert settings_seen("tuned") == [("false", cores)] * 3
        assert spark.conf.get("spark.sql.adaptive.enabled") == outer[0] == "true"
        assert spark.conf.get("spark.sql.shuffle.partitions") == str(cores * 8)
        spark.conf.set(MICROBATCH_ADAPTIVE, "true")
        assert settings_seen("adaptive") == [("true", cores * 8)] * 3
    finally:
        spark.conf.unset(MICROBATCH_ADAPTIVE)
        spark.conf.set("spark.sql.shuffle.partitions", outer[1])


def test_a_moving_watermark_compiles_no_new_code_per_micro_batch(spark, tmp_path: Path) -> None:
    """The watermark changes every micro-batch; Spark writes long literals into the Java it compiles,
    so it goes in as a decimal (by reference): after the first micro-batches, none compiles a class."""
    url, p = per_key_counts(tmp_path, "wm")
    codegen = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics
    compiled: list[int] = []  # classes compiled so far, at each micro-batch's outputs
    p = dataclasses.replace(p, lateness_ms=1, foreach_batch=lambda df, _: compiled.append(
        codegen.METRIC_COMPILATION_TIME().getCount()))
    runner = Runner(p, log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=5)
    handle.wait(300)
    counts = sorted((r["k"], r["n"]) for r in runner.store.rows("per_k"))
    assert counts == [("k0", 10), ("k1", 10), ("k2", 10)]
    watermarks = [s.watermark_ms for s in handle.history]
    assert len(watermarks) == 6 and len(set(watermarks)) == 6  # a new watermark every micro-batch
    assert compiled[-1] - compiled[2] == 0, compiled
