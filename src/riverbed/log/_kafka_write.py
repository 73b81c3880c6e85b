"""Appends for the Kafka backend: place records, produce, and check every delivery report.

Nothing is reported written that the broker did not acknowledge: `append` returns only when each
record has a delivery report without error, and raises otherwise. A full local queue
(`BufferError`) is handled by serving delivery reports and retrying, never by dropping.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaException, Producer

from riverbed.errors import InvalidArgument, LogError, LogUnavailable
from riverbed.log._kafka_util import Delivery, to_wire, translate, unavailable
from riverbed.log.api import AppendResult, Record, check_columns
from riverbed.log.partitioner import partition_for


class Writer:
    """One idempotent producer (acks=all) shared by every append of a log instance."""

    def __init__(self, url: str, base: dict[str, Any], timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self._conf = {
            **{k: v for k, v in base.items() if k != "logger"},
            "acks": "all",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 2,
            "message.timeout.ms": int(timeout * 1000),
            **{k: v for k, v in base.items() if k == "logger"},
        }
        self._producer: Producer | None = None
        self._sticky: dict[str, itertools.count] = {}
        self._lock = threading.Lock()

    def producer(self) -> Producer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = Producer(self._conf)
                except KafkaException as e:
                    raise translate(e, self.url) from None
            return self._producer

    def _sticky_partition(self, topic: str, n: int) -> int:
        with self._lock:
            # the first partition at random, as Kafka's sticky partitioner picks it: with a counter
            # from 0, every short-lived producer (a CLI run) would put its first batch on partition 0
            counter = self._sticky.setdefault(topic, itertools.count(random.randrange(n)))
            return next(counter) % n

    def append(self, topic: str, n: int, records: Sequence[Record]) -> AppendResult:
        """Produce `records` to `topic` (of `n` partitions) and wait for their delivery reports."""
        sticky = -1
        parts: list[int] = []
        for r in records:
            if r.partition is not None:
                _check(topic, r.partition, n)
                parts.append(r.partition)
            elif r.key is not None:
                parts.append(partition_for(r.key, n))
            else:
                if sticky < 0:
                    sticky = self._sticky_partition(topic, n)
                parts.append(sticky)
        rows = ((r.value, r.key, *to_wire(r.timestamp, r.headers)) for r in records)
        return self._send(topic, parts, rows)

    def append_values(
        self,
        topic: str,
        n: int,
        values: Sequence[bytes | None],
        keys: Sequence[bytes | None] | None,
        timestamps: Sequence[int] | int | None,
        partition: int | None,
    ) -> AppendResult:
        """Column-wise `append`: no Record objects built."""
        count = check_columns(values, keys, timestamps)
        if timestamps is None or isinstance(timestamps, int):
            ts: Sequence[int] = itertools.repeat(timestamps or 0, count)  # type: ignore[assignment]
        else:
            ts = timestamps
        if partition is not None:
            _check(topic, partition, n)
            parts: list[int] = [partition] * count
        elif keys is None:
            parts = [self._sticky_partition(topic, n)] * count
        else:
            sticky = -1
            parts = []
            for k in keys:
                if k is None:
                    if sticky < 0:
                        sticky = self._sticky_partition(topic, n)
                    parts.append(sticky)
                else:
                    parts.append(partition_for(k, n))
        keys_it = keys if keys is not None else itertools.repeat(None)
        if timestamps == 0 or (not isinstance(timestamps, int) and timestamps is not None and 0 in ts):
            rows: Any = ((v, k, *to_wire(t, None)) for v, k, t in zip(values, keys_it, ts, strict=False))
        else:
            rows = zip(values, keys_it, ts, itertools.repeat(None))
        return self._send(topic, parts, rows)

    def _send(self, topic: str, parts: list[int], rows: Any) -> AppendResult:
        if not parts:
            return AppendResult([], [])
        producer = self.producer()
        produce, poll = producer.produce, producer.poll
        report = Delivery()
        order: dict[int, list[int]] = {}
        single = len(set(parts)) == 1
        if single:
            order[parts[0]] = []  # input order is offset order: no index lists needed
        for i, ((value, key, ts, headers), p) in enumerate(zip(rows, parts, strict=True)):
            if not single:
                order.setdefault(p, []).append(i)
            while True:
                try:
                    produce(topic, value, key, p, on_delivery=report, timestamp=ts, headers=headers)
                    break
                except BufferError:  # local queue full: serve delivery reports, then retry
                    poll(0.05)
                except KafkaException as e:
                    if self._drop_if_fatal(producer, e.args[:1]):
                        raise _dropped(e.args[0], "records", topic) from None
                    raise translate(e, self.url, topic) from None
        deadline = time.monotonic() + self.timeout + 5
        while report.done < len(parts) and time.monotonic() < deadline:
            producer.flush(max(0.0, deadline - time.monotonic()))
        if report.errors:
            err = report.errors[0]
            exc = translate(KafkaException(err), self.url, topic)
            n = f"{len(report.errors)} of {len(parts)} records"
            if self._drop_if_fatal(producer, report.errors):
                exc = _dropped(err, n, topic)
            elif isinstance(exc, LogError):
                if any(e.name() == "_MSG_TIMED_OUT" for e in report.errors):
                    # sent but unanswered in time: the broker may still have stored them
                    exc.message = f"{n} not acknowledged by '{topic}' within {self.timeout:g}s: {exc.message}"
                    exc.hint = ("they may have been written all the same, so a retry can store them twice; "
                                "a longer timeout (kafka://...?timeout=S) waits out longer broker stalls")
                else:
                    exc.message = f"{n} not written to '{topic}': {exc.message}"
                exc.args = (exc.message,)
            raise exc
        if report.done < len(parts):
            raise unavailable(
                self.url, f"{len(parts) - report.done} records not acknowledged in {self.timeout}s"
            )
        return report.result(parts, order)

    def _drop_if_fatal(self, producer: Producer, errors: Sequence[Any]) -> bool:
        """After a fatal error (e.g. fenced when an idempotent producer could not bump its epoch after
        a timeout: Tansu answers PRODUCER_FENCED) librdkafka refuses every later produce: drop the
        producer so the next append starts a new one instead of failing forever. True if dropped."""
        if not any(_fatal(e) for e in errors):
            return False
        with self._lock:
            if self._producer is producer:
                self._producer = None
        producer.flush(0)  # what it still holds can only fail now
        return True

    def forget(self, topic: str) -> None:
        with self._lock:
            self._sticky.pop(topic, None)

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(self.timeout)


def _check(topic: str, partition: int, n: int) -> None:
    if not isinstance(partition, int) or not 0 <= partition < n:
        raise InvalidArgument(f"partition {partition!r} out of range for topic '{topic}' ({n} partitions)")


def _dropped(err: Any, what: str, topic: str) -> LogUnavailable:
    """The (transient) error of an append whose producer hit a fatal error and was replaced."""
    return LogUnavailable(
        f"{what} not written to '{topic}': the producer hit a fatal error ({err.name()}: {err.str()}); "
        "the next append uses a new producer", hint="retry the append")


def _fatal(err: Any) -> bool:
    """Whether a KafkaError leaves the producer unusable."""
    fatal = getattr(err, "fatal", None)
    return bool(fatal and fatal()) or getattr(err, "name", lambda: "")() in _FATAL_NAMES


_FATAL_NAMES = {"_FATAL", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "_FENCED"}
