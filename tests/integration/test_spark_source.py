"""The log as a Spark data source ("riverbed"): batch and streaming reads over both backends.

All Spark tests share the session-scoped `spark` fixture; streams use trigger(availableNow=True)
or processAllAvailable() so they are deterministic, and every query is stopped.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from riverbed.errors import DataLoss, InvalidArgument
from riverbed.log import Log, Record, TopicConfig
from riverbed.spark import offsets as off

KAFKA_SCHEMA = (
    "struct<key:binary,value:binary,topic:string,partition:int,offset:bigint,timestamp:timestamp,"
    "headers:array<struct<key:string,value:binary>>>"
)
T0 = 1_700_000_000_000  # event times in epoch ms


def fill(log: Log, topic: str, n: int, partitions: int = 3, first: int = 0) -> list[tuple]:
    """Append n records spread over the partitions; returns them as Spark rows would show them."""
    log.ensure_topic(topic, TopicConfig(partitions=partitions))
    records = [
        Record(
            json.dumps({"i": i}).encode(),
            key=None if i % 5 == 0 else f"k{i}".encode(),
            timestamp=T0 + i,
            headers=(("h", str(i).encode()),) if i % 2 else (),
            partition=i % partitions,
        )
        for i in range(first, first + n)
    ]
    log.append(topic, records)
    return [(r.key, r.value, r.timestamp, r.headers) for r in records]


def rows_of(df) -> list[tuple]:
    """A DataFrame of the source as (key, value, ts_ms, headers), comparable with `fill`'s output."""
    out = []
    for r in df.collect():
        ts_ms = int(r.timestamp.timestamp() * 1000 + 0.5)
        headers = tuple((h.key, bytes(h.value)) for h in r.headers or ())
        out.append((None if r.key is None else bytes(r.key), bytes(r.value), ts_ms, headers))
    return out


def reader(spark, log_url: str, topic: str, **options):
    r = spark.read.format("riverbed").option("log", log_url).option("topic", topic)
    for k, v in options.items():
        r = r.option(k, v)
    return r


def stream(spark, log_url: str, topic: str, **options):
    r = spark.readStream.format("riverbed").option("log", log_url).option("topic", topic)
    for k, v in options.items():
        r = r.option(k, v)
    return r.load()


def sort_key(row: tuple) -> tuple:
    return row[2], row[1]


# -- offsets logic (no Spark) ----------------------------------------------------------------
def test_offset_specs_parse_and_reject_bad_json() -> None:
    assert off.parse_spec(None, "startingOffsets", ["a"], "earliest") == "earliest"
    spec = off.parse_spec('{"a":{"0":23,"1":-2}}', "startingOffsets", ["a"], "latest")
    assert spec == {"a": {0: 23, 1: -2}}
    with pytest.raises(InvalidArgument, match="startingOffsets is neither"):
        off.parse_spec("{a:0}", "startingOffsets", ["a"], "latest")
    with pytest.raises(InvalidArgument, match="names topic 'b'"):
        off.parse_spec('{"b":{"0":1}}', "startingOffsets", ["a"], "latest")
    with pytest.raises(InvalidArgument, match="offset -3"):
        off.parse_spec('{"a":{"0":-3}}', "startingOffsets", ["a"], "latest")
    with pytest.raises(InvalidArgument, match="option 'topic'"):
        off.parse_topics(" , ")
    bounds = {"a": {0: (5, 50), 1: (0, 10)}}
    assert off.resolve({"a": {0: -1}}, "startingOffsets", bounds) == {"a": {"0": 50, "1": 0}}
    assert off.resolve("earliest", "endingOffsets", bounds) == {"a": {"0": 5, "1": 0}}
    with pytest.raises(DataLoss, match="failOnDataLoss=false"):
        off.resolve({"a": {0: 1}}, "startingOffsets", bounds)
    assert off.resolve({"a": {0: 1}}, "startingOffsets", bounds, fail_on_data_loss=False)["a"]["0"] == 5
    with pytest.raises(InvalidArgument, match="past its end"):
        off.resolve({"a": {1: 11}}, "startingOffsets", bounds)


def test_admission_is_fair_and_bounded() -> None:
    start = {"t": {"0": 0, "1": 10, "2": 0}}
    latest = {"t": {"0": 100, "1": 15, "2": 100}}
    got = off.admit(start, latest, 50)
    taken = {p: got["t"][p] - start["t"][p] for p in got["t"]}
    assert sum(taken.values()) == 50
    assert taken["1"] == 5  # a small backlog is drained, the rest shared equally
    assert abs(taken["0"] - taken["2"]) <= 1
    assert off.admit(start, latest, 1000) == latest


def test_split_covers_every_offset_once() -> None:
    ranges = off.split({"t": {"0": 0, "1": 7}}, {"t": {"0": 1000, "1": 7}}, max_per_split=300, min_splits=1)
    assert [(r.start, r.end) for r in ranges] == [(0, 250), (250, 500), (500, 750), (750, 1000)]
    assert len(off.split({"t": {"0": 0}}, {"t": {"0": 100}}, max_per_split=10**6, min_splits=4)) == 4


# -- batch -----------------------------------------------------------------------------------
def test_batch_read_all_records_both_backends(spark, log: Log, log_url: str, topic: str) -> None:
    expected = fill(log, topic, 40)
    df = reader(spark, log_url, topic).load()
    assert df.schema.simpleString() == KAFKA_SCHEMA
    assert sorted(rows_of(df), key=sort_key) == sorted(expected, key=sort_key)
    placed = df.select("topic", "partition", "offset").collect()
    assert {r.topic for r in placed} == {topic}
    assert sorted((r.partition, r.offset) for r in placed) == sorted((p, o) for p in range(3) for o in range(
        len([i for i in range(40) if i % 3 == p])))


def test_batch_starting_and_ending_offsets_json(spark, log: Log, log_url: str, topic: str) -> None:
    fill(log, topic, 30)  # 10 records per partition
    df = reader(
        spark, log_url, topic,
        startingOffsets=json.dumps({topic: {"0": 2, "1": -2}}),
        endingOffsets=json.dumps({topic: {"0": 5, "1": 3, "2": -1}}),
    ).load()
    got = sorted((r.partition, r.offset) for r in df.select("partition", "offset").collect())
    assert got == [(0, 2), (0, 3), (0, 4), (1, 0), (1, 1), (1, 2)] + [(2, o) for o in range(10)]


@pytest.mark.parametrize("backend", ["embedded"])  # backend-neutral logic: one backend keeps it quick
def test_two_topics_and_large_ranges_split(spark, log: Log, log_url: str, topic_factory) -> None:
    a, b = topic_factory("a"), topic_factory("b")
    fill(log, a, 20, partitions=1)
    fill(log, b, 10, partitions=2)
    df = reader(spark, log_url, f"{a},{b}", maxRecordsPerPartition=3).load()
    assert df.rdd.getNumPartitions() == 7 + 2 * 2
    assert sorted(df.groupBy("topic").count().collect()) == sorted([(a, 20), (b, 10)])


def test_clear_errors(spark, log: Log, log_url: str, topic: str) -> None:
    with pytest.raises(Exception, match=f"topic '{topic}' does not exist"):
        reader(spark, log_url, topic).load()
    fill(log, topic, 3)
    with pytest.raises(Exception, match="startingOffsets is neither"):
        reader(spark, log_url, topic, startingOffsets="{oops").load()
    with pytest.raises(Exception, match="needs option 'topic'"):
        spark.read.format("riverbed").option("log", log_url).load()


def test_data_removed_by_retention_fails_unless_told(spark, log: Log, log_url: str, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1, retention_ms=60_000))
    now = int(time.time() * 1000)
    log.append(topic, [Record(b"old", timestamp=now - 3_600_000, partition=0) for _ in range(10)])
    log.append(topic, [Record(b"new", timestamp=now, partition=0) for _ in range(5)])
    log.enforce_retention(topic)
    assert log.offsets(topic, 0) == (10, 15)
    from_zero = json.dumps({topic: {"0": 0}})
    with pytest.raises(Exception, match="were removed"):
        reader(spark, log_url, topic, startingOffsets=from_zero).load().collect()
    df = reader(spark, log_url, topic, startingOffsets=from_zero, failOnDataLoss="false").load()
    assert sorted(r.offset for r in df.collect()) == list(range(10, 15))


# -- streaming -------------------------------------------------------------------------------
def run_available_now(df, name: str, checkpoint: Path):
    q = (df.writeStream.format("memory").queryName(name).option("checkpointLocation", str(checkpoint))
         .trigger(availableNow=True).start())
    try:
        assert q.awaitTermination(120), "availableNow query did not finish"
    finally:
        q.stop()
    assert q.exception() is None
    return q


def test_stream_available_now_gives_exactly_all_records(spark, log: Log, log_url: str, topic: str,
                                                         tmp_path: Path) -> None:
    expected = fill(log, topic, 60)
    name = f"s_{uuid.uuid4().hex[:8]}"
    df = stream(spark, log_url, topic, startingOffsets="earliest")
    assert df.isStreaming and df.schema.simpleString() == KAFKA_SCHEMA
    run_available_now(df, name, tmp_path / "ck")
    got = spark.table(name)
    assert sorted(rows_of(got), key=sort_key) == sorted(expected, key=sort_key)
    assert got.select("partition", "offset").distinct().count() == 60


@pytest.mark.parametrize("backend", ["embedded"])  # backend-neutral logic: one backend keeps it quick
def test_max_records_per_trigger_bounds_each_micro_batch(spark, log: Log, log_url: str, topic: str,
                                                        tmp_path: Path) -> None:
    fill(log, topic, 100)
    name = f"m_{uuid.uuid4().hex[:8]}"
    df = stream(spark, log_url, topic, startingOffsets="earliest", maxRecordsPerTrigger=30)
    q = run_available_now(df, name, tmp_path / "ck")
    sizes = [p["numInputRows"] for p in q.recentProgress if p["numInputRows"]]
    assert sum(sizes) == 100 and max(sizes) <= 30 and len(sizes) == 4, sizes
    assert spark.table(name).select("partition", "offset").distinct().count() == 100


@pytest.mark.parametrize("backend", ["embedded"])  # backend-neutral logic: one backend keeps it quick
def test_restart_from_checkpoint_reads_only_new_records(spark, log: Log, log_url: str, topic: str,
                                                       tmp_path: Path) -> None:
    fill(log, topic, 30)
    out, ck = tmp_path / "out", tmp_path / "ck"

    def run() -> int:
        df = stream(spark, log_url, topic, startingOffsets="earliest")
        q = (df.writeStream.format("parquet").option("path", str(out)).option("checkpointLocation", str(ck))
             .trigger(availableNow=True).start())
        try:
            assert q.awaitTermination(120)
        finally:
            q.stop()
        return sum(p["numInputRows"] for p in q.recentProgress)

    assert run() == 30
    fill(log, topic, 12, first=30)
    assert run() == 12
    got = spark.read.parquet(str(out))
    assert got.count() == 42
    assert got.select("partition", "offset").distinct().count() == 42


def test_running_query_picks_up_data_appended_later(spark, log: Log, log_url: str, topic: str,
                                                    tmp_path: Path) -> None:
    fill(log, topic, 10)
    name = f"r_{uuid.uuid4().hex[:8]}"
    q = (stream(spark, log_url, topic, startingOffsets="latest").writeStream.format("memory").queryName(name)
         .option("checkpointLocation", str(tmp_path / "ck")).start())
    try:
        q.processAllAvailable()
        assert spark.table(name).count() == 0  # startingOffsets=latest: what was there is skipped
        expected = fill(log, topic, 9, first=10)
        q.processAllAvailable()
        assert sorted(rows_of(spark.table(name)), key=sort_key) == sorted(expected, key=sort_key)
    finally:
        q.stop()


# -- session and defaults --------------------------------------------------------------------
def test_master_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from riverbed.errors import ConfigError
    from riverbed.spark.session import ENV_SPARK_MASTER, resolve_master

    monkeypatch.delenv(ENV_SPARK_MASTER, raising=False)
    assert resolve_master() == "local[*]"
    monkeypatch.setenv(ENV_SPARK_MASTER, "spark://10.0.0.1:7077")
    assert resolve_master() == "spark://10.0.0.1:7077"
    assert resolve_master("k8s://https://api:6443") == "k8s://https://api:6443"
    with pytest.raises(ConfigError, match="unknown Spark master 'bogus'"):
        resolve_master("bogus")


def test_session_settings_and_default_log(spark, tmp_path: Path, topic: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from riverbed.log import open_log
    from riverbed.spark import get_spark
    from riverbed.spark.session import register_source

    assert get_spark() is spark  # the running session is shared, not replaced
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    home = tmp_path / "home"
    with open_log(home=home) as log:
        expected = fill(log, topic, 6)
    # `home` option: the embedded log under that home, resolved on the driver
    by_home = spark.read.format("riverbed").option("topic", topic).option("home", str(home)).load()
    assert sorted(rows_of(by_home), key=sort_key) == sorted(expected, key=sort_key)
    # no option: the log named by the environment when the source was registered
    monkeypatch.setenv("RIVERBED_HOME", str(home))
    monkeypatch.delenv("RIVERBED_LOG", raising=False)
    try:
        register_source(spark)
        assert spark.read.format("riverbed").option("topic", topic).load().count() == 6
    finally:
        monkeypatch.undo()
        register_source(spark)
