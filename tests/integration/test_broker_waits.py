"""The Kafka broker frozen (SIGSTOP) at each moment of a stream's life: the stream waits, carries on
and counts every record exactly once; frozen past brokerWaitMs, the query fails with one clear error.

The moment is exact, not timing luck: the source's fault points (option faultHook, see
riverbed.testing.moments) freeze the session's broker when the source reaches the nth call of
initialOffset / latestOffset / read / commit, and the test thaws it only once the source has
met the frozen broker and waited for it twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from riverbed.log import TopicConfig, open_log
from riverbed.testing import TansuBroker
from riverbed.testing.moments import FreezeAt

pytestmark = [pytest.mark.spark, pytest.mark.kafka, pytest.mark.slow]
PER_ROUND = 300


class Collect:
    """A foreachBatch sink keeping each micro-batch's (partition, offset, value); a replayed batch id
    replaces its rows, as an idempotent sink would."""

    def __init__(self) -> None:
        self.batches: dict[int, list[tuple[int, int, bytes]]] = {}

    def __call__(self, df, batch_id: int) -> None:
        rows = df.select("partition", "offset", "value").collect()
        self.batches[batch_id] = [(r.partition, r.offset, bytes(r.value)) for r in rows]

    def rows(self) -> list[tuple[int, int, bytes]]:
        return [r for b in list(self.batches.values()) for r in b]


def produce(url: str, topic: str, first: int, n: int) -> list[bytes]:
    """Append values rec-<first>..rec-<first+n-1>, keyed so both partitions get some."""
    values = [f"rec-{i:06d}".encode() for i in range(first, first + n)]
    with open_log(url) as log:
        log.append_values(topic, values, keys=[str(i % 7).encode() for i in range(first, first + n)])
    return values


def log_ends(url: str, topic: str) -> dict[str, int]:
    """End offset of each partition, read through a fresh log: the independent count."""
    with open_log(url) as log:
        return {str(p.partition): p.end_offset for p in log.describe(topic).partitions}


def start(spark, url: str, topic: str, folder: Path, sink: Collect, moment: FreezeAt,
          wait_ms: int | None = None):
    """The stream under test: the topic from the earliest offset into `sink`, a micro-batch per 200 ms."""
    reader = (spark.readStream.format("riverbed").option("log", url).option("topic", topic)
              .option("startingOffsets", "earliest").option("faultHook", moment.plan))
    if wait_ms is not None:
        reader = reader.option("brokerWaitMs", str(wait_ms))
    return (reader.load().writeStream.foreachBatch(sink).option("checkpointLocation", str(folder / "ckpt"))
            .trigger(processingTime="200 milliseconds").start())


def committed(folder: Path) -> tuple[int, dict]:
    """The last committed batch id in the checkpoint and the source offsets recorded for it."""
    commits = folder / "ckpt" / "commits"
    done = max((int(f.name) for f in commits.iterdir() if f.name.isdigit()), default=-1) \
        if commits.exists() else -1
    if done < 0:
        return done, {}
    lines = (folder / "ckpt" / "offsets" / str(done)).read_text().splitlines()
    return done, json.loads(lines[-1])


def setup(tansu: TansuBroker, topic: str) -> str:
    """A 2-partition topic on the session broker; the log URL, with a 3 s client timeout."""
    url = f"{tansu.url}?timeout=3"
    with open_log(url) as log:
        log.create_topic(topic, TopicConfig(partitions=2))
    return url


@pytest.mark.parametrize(("at", "nth", "waited_in"), [
    ("initialOffset", 1, "(initialOffset)"),  # before the query's first batch
    ("latestOffset", 3, "(latestOffset)"),  # between micro-batches
    ("read", 1, "(read)"),  # in a read task, on an executor
    # Spark commits batch 0 as it starts batch 1 (new data), then plans batch 1's splits
    ("commit", 1, "(partitions)"),
])
def test_broker_frozen_at_a_moment_the_stream_waits_and_counts_everything_once(
        spark, tansu: TansuBroker, topic: str, tmp_path: Path, at: str, nth: int, waited_in: str) -> None:
    url = setup(tansu, topic)
    sent = produce(url, topic, 0, PER_ROUND)
    sink = Collect()
    with FreezeAt(tansu, at, nth, tmp_path / "moment") as moment:
        query = start(spark, url, topic, tmp_path, sink, moment)
        try:
            if at == "commit":  # batch 0 done, then new records: batch 1 starts by committing batch 0
                wait_for(lambda: len(sink.rows()) >= PER_ROUND, query)
                sent += produce(url, topic, len(sent), PER_ROUND)
            waits = moment.wait_waits(2, timeout=120)
            assert moment.frozen, f"the source never reached {at} #{nth}"
            assert len(waits) >= 2 and waits[0].endswith(waited_in), waits
            assert query.isActive, f"the stream died: {query.exception()}"
            moment.thaw()
            sent += produce(url, topic, len(sent), PER_ROUND)  # after the thaw: it must carry on
            ends = log_ends(url, topic)
            wait_for(lambda: len(sink.rows()) >= len(sent) and committed(tmp_path)[1] == {topic: ends}, query)
        finally:
            query.stop()
    rows = sink.rows()
    assert sum(ends.values()) == len(sent), "the log holds other than what was sent"
    assert Counter(v for *_, v in rows) == Counter(sent), "a record lost or counted twice"
    assert len({(p, o) for p, o, _ in rows}) == len(rows), "an offset in two batches"
    last, offsets = committed(tmp_path)
    assert offsets == {topic: ends} and last == max(sink.batches), "the offsets read were not committed"


def wait_for(done, query, timeout: float = 120.0) -> None:
    """Poll `done()` until true or `timeout` s pass; the query must stay alive meanwhile."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        assert query.isActive, f"the stream died: {query.exception()}"
        time.sleep(0.2)


def test_broker_frozen_past_the_deadline_fails_the_query_with_a_clear_error(
        spark, tansu: TansuBroker, topic: str, tmp_path: Path) -> None:
    url = setup(tansu, topic)
    sent = produce(url, topic, 0, PER_ROUND)
    sink = Collect()
    with FreezeAt(tansu, "latestOffset", 2, tmp_path / "moment") as moment:
        query = start(spark, url, topic, tmp_path, sink, moment, wait_ms=4000)
        try:
            deadline = time.monotonic() + 120
            while query.isActive and time.monotonic() < deadline:
                time.sleep(0.2)
            assert moment.frozen and not query.isActive, "the query outlived a frozen broker"
            error = str(query.exception())
        finally:
            moment.thaw()
            query.stop()
    assert "LogWaitExpired: gave up after" in error and "(deadline 4 s)" in error, error[:3000]
    assert f"waiting for the log at {tansu.url} while finding the latest offsets (latestOffset): " \
           "cannot reach the Kafka broker" in error, error[:3000]
    assert "brokerWaitMs" in error
    assert len(moment.waits()) >= 2, "it failed without waiting"
    assert Counter(v for *_, v in sink.rows()) == Counter(sent), "batch 0 lost or counted twice"
    assert committed(tmp_path)[1] == {topic: log_ends(url, topic)}


def test_batch_read_waits_for_a_broker_frozen_as_it_plans(spark, tansu: TansuBroker, topic: str,
                                                          tmp_path: Path) -> None:
    """spark.read: the broker frozen as the reader plans its splits; a thread thaws it once the
    source has waited twice, and the read returns every record once."""
    url = setup(tansu, topic)
    sent = produce(url, topic, 0, PER_ROUND)
    with FreezeAt(tansu, "partitions", 1, tmp_path / "moment") as moment:
        thawer = threading.Thread(target=lambda: (moment.wait_waits(2), moment.thaw()), daemon=True)
        thawer.start()
        rows = (spark.read.format("riverbed").option("log", url).option("topic", topic)
                .option("faultHook", moment.plan).load().select("offset", "value").collect())
        thawer.join(10)
    assert moment.frozen and moment.waits()[0].endswith("(partitions)"), moment.waits()
    assert Counter(bytes(r.value) for r in rows) == Counter(sent)


def test_opening_the_log_waits_for_a_broker_frozen_before_it(tansu: TansuBroker, topic: str) -> None:
    """The broker frozen before the log is opened (a pipeline's start checks, the source's first
    call): the open and the call are retried until it answers; it is thawed at the second wait."""
    from riverbed.spark import waits

    url = setup(tansu, topic)
    seen: list[str] = []

    def on_wait(what: str, error: Exception, delay: float) -> None:
        seen.append(str(error))
        if len(seen) == 2:
            tansu.thaw()

    tansu.freeze()
    try:
        info = waits.with_log(url, lambda log: log.describe(topic), "checking the topics", 120, on_wait)
    finally:
        tansu.thaw()
    assert info.name == topic and len(info.partitions) == 2
    assert len(seen) == 2 and all("cannot reach the Kafka broker" in e for e in seen), seen
