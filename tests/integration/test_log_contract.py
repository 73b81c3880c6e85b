"""The log's contract, run against every backend (embedded and Kafka over a real Tansu broker).

Each test here runs twice through the `log` / `log_url` fixtures; a behaviour that differs
between backends is a bug in one of them.
"""

from __future__ import annotations

import time

import pyarrow as pa
import pytest

from riverbed.errors import InvalidArgument, OffsetOutOfRange, TopicExists, TopicNotFound
from riverbed.log import Log, Record, TopicConfig, arrow_schema, partition_for


def read_all(log: Log, topic: str, partition: int, start: int = 0) -> list:
    out, pos = [], start
    while batch := log.read(topic, partition, pos, 1000):
        out.extend(batch)
        pos = batch[-1].offset + 1
    return out


# -- topics ---------------------------------------------------------------------------------
def test_topic_lifecycle(log: Log, topic: str) -> None:
    info = log.create_topic(topic, TopicConfig(partitions=3, retention_ms=3_600_000))
    assert info.name == topic
    assert [p.partition for p in info.partitions] == [0, 1, 2]
    assert all((p.start_offset, p.end_offset) == (0, 0) for p in info.partitions)
    assert topic in log.topics()
    described = log.describe(topic)
    assert described.config.partitions == 3
    assert described.config.retention_ms == 3_600_000
    with pytest.raises(TopicExists):
        log.create_topic(topic, TopicConfig(partitions=1))
    log.delete_topic(topic)
    assert topic not in log.topics()
    with pytest.raises(TopicNotFound):
        log.describe(topic)
    with pytest.raises(TopicNotFound):
        log.delete_topic(topic)


def test_bad_topic_config_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="partitions"):
        TopicConfig(partitions=0)
    with pytest.raises(InvalidArgument, match="fsync"):
        TopicConfig(fsync="sometimes")  # type: ignore[arg-type]


def test_unknown_topic_errors_name_the_topic(log: Log, topic: str) -> None:
    with pytest.raises(TopicNotFound, match=topic):
        log.append(topic, [Record(b"x")])
    with pytest.raises(TopicNotFound, match=topic):
        log.read(topic, 0, 0)


# -- append and read ------------------------------------------------------------------------
def test_append_assigns_contiguous_offsets_in_order(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1))
    first = log.append(topic, [Record(f"v{i}".encode(), timestamp=1_000 + i) for i in range(5)])
    second = log.append(topic, [Record(f"v{i}".encode(), timestamp=1_000 + i) for i in range(5, 12)])
    assert list(first) == [(0, i) for i in range(5)]
    assert list(second) == [(0, i) for i in range(5, 12)]
    recs = read_all(log, topic, 0)
    assert [r.offset for r in recs] == list(range(12))
    assert [r.value for r in recs] == [f"v{i}".encode() for i in range(12)]
    assert [r.timestamp for r in recs] == [1_000 + i for i in range(12)]
    assert log.offsets(topic, 0) == (0, 12)
    # from the middle, bounded
    assert [r.offset for r in log.read(topic, 0, 7, max_records=3)] == [7, 8, 9]
    # exactly at the end: nothing yet; past it: an error
    assert log.read(topic, 0, 12) == []
    with pytest.raises(OffsetOutOfRange):
        log.read(topic, 0, 13)


def test_record_fields_round_trip(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    recs = [
        Record(b'{"a": 1}', key=b"k1", timestamp=1_467_849_600_000, headers=(("h", b"1"), ("h2", b""))),
        Record(None, key=b"k1", timestamp=1_467_849_600_001),
        Record(b"\x00\xffbinary", key=None, timestamp=5, partition=1),
    ]
    res = log.append(topic, recs)
    by_pos = {(r.partition, r.offset): r for p in (0, 1) for r in read_all(log, topic, p)}
    for rec, (p, off) in zip(recs, res, strict=True):
        got = by_pos[(p, off)]
        assert (got.topic, got.key, got.value, got.timestamp) == (topic, rec.key, rec.value, rec.timestamp)
        assert tuple(got.headers) == rec.headers
    assert res[2][0] == 1


def test_missing_timestamp_means_append_time(log: Log, topic: str) -> None:
    log.create_topic(topic)
    before = int(time.time() * 1000)
    log.append(topic, [Record(b"x")])
    after = int(time.time() * 1000)
    (rec,) = log.read(topic, 0, 0)
    assert before - 5 <= rec.timestamp <= after + 5


def test_keys_go_to_kafka_partitions_and_explicit_partition_wins(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=5))
    keys = [f"user-{i}".encode() for i in range(200)]
    res = log.append(topic, [Record(b"v", key=k) for k in keys])
    assert [p for p, _ in res] == [partition_for(k, 5) for k in keys]
    pinned = log.append(topic, [Record(b"v", key=b"user-1", partition=4)])
    assert pinned[0][0] == 4
    with pytest.raises(InvalidArgument):
        log.append(topic, [Record(b"v", partition=5)])


def test_append_values_fast_path(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=3))
    values = [f"{i:05d}".encode() * 20 for i in range(3000)]
    res = log.append_values(topic, values, timestamps=42)
    assert len(res) == 3000
    got = {}
    for p in range(3):
        for r in read_all(log, topic, p):
            got[(p, r.offset)] = r
    assert [got[pos].value for pos in res] == values
    assert {r.timestamp for r in got.values()} == {42}
    keyed = log.append_values(topic, [b"a", b"b"], keys=[b"k-a", b"k-b"], timestamps=[1, 2])
    assert [p for p, _ in keyed] == [partition_for(b"k-a", 3), partition_for(b"k-b", 3)]
    same = log.append_values(topic, [b"x", b"y", b"z"], keys=[b"k-a"] * 3)  # one key: one partition
    p_a = partition_for(b"k-a", 3)
    assert [p for p, _ in same] == [p_a] * 3
    assert [o for _, o in same] == list(range(same[0][1], same[0][1] + 3))


def test_read_arrow_matches_read(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1))
    for chunk in range(4):
        log.append(topic, [Record(f"{chunk}-{i}".encode(), key=b"k", timestamp=chunk * 100 + i,
                                  headers=(("n", str(i).encode()),), partition=0) for i in range(50)])
    batches = list(log.read_arrow(topic, 0, 30, 170))
    assert all(b.schema.equals(arrow_schema()) for b in batches)
    table = pa.Table.from_batches(batches, schema=arrow_schema())
    assert table.column("offset").to_pylist() == list(range(30, 170))
    expected = read_all(log, topic, 0, 30)[:140]
    assert table.column("value").to_pylist() == [r.value for r in expected]
    assert table.column("key").to_pylist() == [b"k"] * 140
    assert set(table.column("topic").to_pylist()) == {topic}
    assert [t.value for t in table.column("timestamp")] == [r.timestamp for r in expected]
    assert table.column("headers").to_pylist()[0] == [{"key": "n", "value": expected[0].headers[0][1]}]
    # open end: to the current end
    assert sum(b.num_rows for b in log.read_arrow(topic, 0, 150)) == 50


# -- time and groups ------------------------------------------------------------------------
def test_offset_for_timestamp_and_consumer_seek(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1))
    log.append(topic, [Record(str(i).encode(), timestamp=1_000 * i) for i in range(10)])
    assert log.offset_for_timestamp(topic, 0, 3_000) == 3
    assert log.offset_for_timestamp(topic, 0, 3_500) == 4
    assert log.offset_for_timestamp(topic, 0, 0) == 0
    assert log.offset_for_timestamp(topic, 0, 99_000) == 10
    c = log.consumer(topic)
    c.seek_to_timestamp(7_000)
    assert [r.value for r in c.poll()] == [b"7", b"8", b"9"]


def test_consumer_group_commit_and_resume(log: Log, topic: str, topic_factory) -> None:
    group = topic_factory("g")
    log.create_topic(topic, TopicConfig(partitions=2))
    log.append(topic, [Record(f"a{i}".encode(), partition=i % 2) for i in range(20)])
    c = log.consumer(topic, group=group)
    first = c.poll(max_records=8)
    assert len(first) == 8
    c.commit()
    seen = {(r.partition, r.offset) for r in first}

    resumed = log.consumer(topic, group=group)
    rest = list(resumed)
    assert seen.isdisjoint({(r.partition, r.offset) for r in rest})
    assert len(seen) + len(rest) == 20
    committed = log.committed(group, topic)
    assert sum(committed.values()) == 8
    lag = {row.partition: row.lag for row in log.group_lag(group) if row.topic == topic}
    assert sum(lag.values()) == 12
    resumed.commit()
    assert group in log.groups()
    assert topic in log.group_topics(group)
    assert all(row.lag == 0 for row in log.group_lag(group) if row.topic == topic)


def test_consumer_from_latest_sees_only_new_records(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    log.append(topic, [Record(b"old", partition=p) for p in (0, 1)])
    c = log.consumer(topic, start="latest")
    assert c.poll() == []
    log.append(topic, [Record(b"new", partition=1)])
    assert [r.value for r in c.poll(timeout=2)] == [b"new"]


def test_consumer_limited_to_some_partitions(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=3))
    log.append(topic, [Record(f"{p}".encode(), partition=p) for p in (0, 1, 2, 1)])
    c = log.consumer(topic, partitions=[1])
    assert [(r.partition, r.value) for r in c] == [(1, b"1"), (1, b"1")]
    assert list(c.position()) == [(topic, 1)]


# -- retention ------------------------------------------------------------------------------
def test_retention_by_size_removes_oldest_batches(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1, retention_bytes=20_000))
    for b in range(20):
        log.append(topic, [Record(bytes([65 + b % 26]) * 100, partition=0) for _ in range(20)])
    assert log.offsets(topic, 0) == (0, 400)
    removed = log.enforce_retention(topic)
    start, end = log.offsets(topic, 0)
    assert end == 400
    assert 0 < start < 400
    assert removed.get(topic) == start
    assert log.describe(topic).partitions[0].bytes <= 20_000 * 1.5
    with pytest.raises(OffsetOutOfRange):
        log.read(topic, 0, 0)
    kept = read_all(log, topic, 0, start)
    assert [r.offset for r in kept] == list(range(start, 400))
    # a fresh consumer starts at what is kept; appends keep numbering after the end
    assert log.consumer(topic).poll(max_records=1)[0].offset == start
    assert list(log.append(topic, [Record(b"more", partition=0)])) == [(0, 400)]


def test_retention_by_age(log: Log, topic: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=1, retention_ms=60_000))
    now = int(time.time() * 1000)
    log.append(topic, [Record(b"old", timestamp=now - 3_600_000, partition=0) for _ in range(10)])
    log.append(topic, [Record(b"new", timestamp=now, partition=0) for _ in range(5)])
    log.enforce_retention(topic)
    assert log.offsets(topic, 0) == (10, 15)
    assert {r.value for r in read_all(log, topic, 0, 10)} == {b"new"}


def test_both_backends_put_1000_keys_on_the_same_partitions(tmp_path, kafka_broker, topic) -> None:
    from riverbed.log import open_log

    keys = [f"key-{i}".encode() for i in range(1000)]
    placed = {}
    for url in (f"embedded://{tmp_path / 'log'}", f"kafka://{kafka_broker}"):
        with open_log(url) as lg:
            lg.create_topic(topic, TopicConfig(partitions=6))
            placed[url.split(":")[0]] = [p for p, _ in lg.append(topic, [Record(b"v", key=k) for k in keys])]
    assert placed["embedded"] == placed["kafka"] == [partition_for(k, 6) for k in keys]
    assert len(set(placed["embedded"])) == 6
