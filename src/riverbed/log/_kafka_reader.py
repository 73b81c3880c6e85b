"""Reads for the Kafka backend: cached assigned consumers, true end offsets, bounded fetches.

Some Kafka-protocol brokers (Tansu 0.6 among them) report a high watermark of "base offset of the
last batch + 1" rather than "last offset + 1". The true end is found by fetching from
`high watermark - 1` and taking the last offset returned + 1; on a correct broker that fetch
returns the single last record, so the same rule is right on both. Results are cached per high
watermark, so an idle partition costs one ListOffsets round trip per call.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from riverbed.errors import LogError
from riverbed.log._kafka_util import record_size, translate, unavailable

TP = tuple[str, int]


class Reader:
    """A small LRU pool of consumers, each assigned to one partition and left where it stopped."""

    def __init__(self, url: str, base: dict[str, Any], *, size: int = 8, timeout: float = 10.0) -> None:
        self.url, self.timeout, self.size = url, timeout, size
        self._conf = {
            **base,
            "group.id": f"riverbed-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",
            "fetch.wait.max.ms": 10,
            "enable.partition.eof": False,
            "queued.max.messages.kbytes": 16384,
        }
        self._pool: OrderedDict[TP, list[Any]] = OrderedDict()  # tp -> [consumer, next offset]
        self._probe: Consumer | None = None
        self._ends: dict[TP, tuple[int, int, int]] = {}  # tp -> (high watermark, true end, avg bytes)
        self.lock = threading.RLock()

    # -- offsets --------------------------------------------------------------------------
    def watermarks(self, topic: str, partition: int) -> tuple[int, int, int]:
        """(low watermark, true end offset, average record bytes near the end)."""
        with self.lock:
            probe = self._probe_consumer()
            try:
                low, high = probe.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self.timeout, cached=False
                )
            except KafkaException as e:
                raise translate(e, self.url, topic) from None
            if high <= low:
                return low, high, 0
            cached = self._ends.get((topic, partition))
            if cached and cached[0] == high:
                return low, cached[1], cached[2]
            msgs = self._fetch(probe, topic, partition, high - 1, 1_000_000, first_wait=self.timeout)
            end = max(high, msgs[-1].offset() + 1) if msgs else high
            avg = sum(record_size(m.key(), m.value(), m.headers()) for m in msgs) // max(1, len(msgs))
            self._ends[(topic, partition)] = (high, end, avg)
            return low, end, avg

    def forget(self, topic: str) -> None:
        """Drop cached state of `topic` (after it was deleted)."""
        with self.lock:
            for tp in [tp for tp in self._pool if tp[0] == topic]:
                self._pool.pop(tp)[0].close()
            for tp in [tp for tp in self._ends if tp[0] == topic]:
                del self._ends[tp]
            if self._probe is not None:  # it may have fetched from the topic: start afresh
                self._probe.close()
                self._probe = None

    # -- records --------------------------------------------------------------------------
    def read_queued(self, topic: str, partition: int, offset: int, count: int) -> list[Any]:
        """Records already fetched by the consumer left at `offset` ([] if none): they exist, so no
        end-offset round trip is needed for sequential reads."""
        with self.lock:
            entry = self._pool.get((topic, partition))
            if entry is None or entry[1] != offset:
                return []
            out: list[Any] = []
            try:
                self._keep_all(entry[0].consume(count, timeout=0), out, topic)
            except KafkaException as e:
                entry[1] = -1
                raise translate(e, self.url, topic) from None
            if out:
                entry[1] = out[-1].offset() + 1
            return out

    def read(self, topic: str, partition: int, offset: int, count: int) -> list[Any]:
        """Up to `count` messages from `offset`, which the caller checked is below the end."""
        with self.lock:
            tp = (topic, partition)
            entry = self._pool.get(tp)
            if entry is None:
                entry = self._pool[tp] = [Consumer(self._conf), -1]
                while len(self._pool) > self.size:
                    self._pool.popitem(last=False)[1][0].close()
            self._pool.move_to_end(tp)
            consumer, pos = entry
            if pos != offset:
                consumer.assign([TopicPartition(topic, partition, offset)])
            entry[1] = -1  # unknown until this read succeeds
            msgs = self._fetch(consumer, topic, partition, None, count, first_wait=self.timeout)
            entry[1] = msgs[-1].offset() + 1 if msgs else offset
            return msgs

    def _fetch(
        self,
        consumer: Consumer,
        topic: str,
        partition: int,
        offset: int | None,
        count: int,
        first_wait: float,
    ) -> list[Any]:
        """Messages from an assigned consumer: wait for the first, then take what keeps arriving.

        With `offset` (the end probe) it takes only what the first fetch brought, since how many
        records follow is unknown; otherwise `count` records are known to exist and it waits for them.
        """
        if offset is not None:
            consumer.assign([TopicPartition(topic, partition, offset)])
        out: list[Any] = []
        try:
            first = consumer.poll(first_wait)
            if first is None:
                raise unavailable(self.url, f"no records from {topic}[{partition}] within {first_wait}s")
            self._keep(first, out, topic)
            while len(out) < count:
                batch = consumer.consume(count - len(out), timeout=0)
                if not batch and offset is None:
                    batch = consumer.consume(count - len(out), timeout=0.2)
                if not batch:
                    break
                self._keep_all(batch, out, topic)
                if offset is not None:
                    break
        except KafkaException as e:
            raise translate(e, self.url, topic) from None
        return out

    def _keep_all(self, batch: list[Any], out: list[Any], topic: str) -> None:
        good = [m for m in batch if m.error() is None]
        if len(good) == len(batch):
            out += good
            return
        for m in batch:
            self._keep(m, out, topic)

    def _keep(self, m: Any, out: list[Any], topic: str) -> None:
        err = m.error()
        if err is None:
            out.append(m)
        elif err.name() != "_PARTITION_EOF":
            raise translate(KafkaException(err), self.url, topic)

    def _probe_consumer(self) -> Consumer:
        if self._probe is None:
            self._probe = Consumer({**self._conf, "group.id": self._conf["group.id"] + "-probe"})
        return self._probe

    def offsets_for_time(self, topic: str, partition: int, ts: int) -> int:
        """The broker's answer to ListOffsets(timestamp), -1 if none (brokers may answer coarsely)."""
        with self.lock:
            try:
                (tp,) = self._probe_consumer().offsets_for_times(
                    [TopicPartition(topic, partition, ts)], timeout=self.timeout
                )
            except KafkaException as e:
                raise translate(e, self.url, topic) from None
            if tp.error is not None:
                raise LogError(f"offset lookup by time failed for {topic}[{partition}]: {tp.error}")
            return tp.offset

    def close(self) -> None:
        with self.lock:
            for consumer, _ in self._pool.values():
                consumer.close()
            self._pool.clear()
            if self._probe is not None:
                self._probe.close()
                self._probe = None
