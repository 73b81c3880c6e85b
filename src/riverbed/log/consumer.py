"""A consumer over one or more topics, built only on the `Log` interface, so both backends share it.

Positions are per (topic, partition). With a group, `start="committed"` resumes from the group's
committed offsets (partitions with none start at the beginning), and `commit()` stores the
current positions. Seek by offset, beginning, end or timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from riverbed.errors import InvalidArgument, OffsetOutOfRange
from riverbed.log.api import Log, LogRecord

TP = tuple[str, int]
START_MODES = ("committed", "earliest", "latest")


class Consumer:
    """Reads records from `topics` in offset order per partition, round-robin across partitions."""

    def __init__(
        self,
        log: Log,
        topics: str | Iterable[str],
        *,
        group: str | None = None,
        start: str = "committed",
        partitions: Iterable[int] | None = None,
    ) -> None:
        """`partitions` limits the consumer to those partition numbers of each topic (default: all)."""
        if start not in START_MODES:
            raise InvalidArgument(f"start must be one of {START_MODES}, got {start!r}")
        self.log = log
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.group = group
        self._positions: dict[TP, int] = {}
        for topic in self.topics:
            info = log.describe(topic)  # raises TopicNotFound early, with its hint
            committed = log.committed(group, topic) if group and start == "committed" else {}
            wanted = None if partitions is None else set(partitions)
            for p in info.partitions:
                if wanted is not None and p.partition not in wanted:
                    continue
                if p.partition in committed:
                    pos = committed[p.partition]
                elif start == "latest":
                    pos = p.end_offset
                else:
                    pos = p.start_offset
                self._positions[(topic, p.partition)] = max(pos, p.start_offset)
        self._next = 0

    # -- positions ------------------------------------------------------------------------
    def position(self) -> dict[TP, int]:
        """The offset of the next record to be returned, per (topic, partition)."""
        return dict(self._positions)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        if (topic, partition) not in self._positions:
            raise InvalidArgument(f"{topic}[{partition}] is not assigned to this consumer")
        self._positions[(topic, partition)] = offset

    def seek_to_beginning(self) -> None:
        for topic, p in self._positions:
            self._positions[(topic, p)] = self.log.offsets(topic, p)[0]

    def seek_to_end(self) -> None:
        for topic, p in self._positions:
            self._positions[(topic, p)] = self.log.offsets(topic, p)[1]

    def seek_to_timestamp(self, timestamp_ms: int) -> None:
        """Position every partition at its first record with timestamp >= `timestamp_ms`."""
        for topic, p in self._positions:
            self._positions[(topic, p)] = self.log.offset_for_timestamp(topic, p, timestamp_ms)

    # -- reading --------------------------------------------------------------------------
    def poll(self, max_records: int = 500, timeout: float = 0.0) -> list[LogRecord]:
        """Up to `max_records` new records; waits up to `timeout` seconds for the first one."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            out = self._poll_once(max_records)
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.1)

    def _poll_once(self, max_records: int) -> list[LogRecord]:
        tps = list(self._positions)
        out: list[LogRecord] = []
        for i in range(len(tps)):
            if len(out) >= max_records:
                break
            tp = tps[(self._next + i) % len(tps)]
            out.extend(self._read(tp, max_records - len(out)))
        self._next = (self._next + 1) % max(1, len(tps))
        return out

    def _read(self, tp: TP, limit: int) -> list[LogRecord]:
        topic, p = tp
        try:
            recs = self.log.read(topic, p, self._positions[tp], limit)
        except OffsetOutOfRange as e:
            if self._positions[tp] >= e.start:  # past the end: nothing yet
                return []
            self._positions[tp] = e.start  # removed by retention: skip to what is kept
            recs = self.log.read(topic, p, e.start, limit)
        if recs:
            self._positions[tp] = recs[-1].offset + 1
        return recs

    def __iter__(self) -> Iterator[LogRecord]:
        """Every record currently available, then stop."""
        while batch := self.poll():
            yield from batch

    # -- groups ---------------------------------------------------------------------------
    def commit(self) -> None:
        """Store the current positions as the group's committed offsets."""
        if not self.group:
            raise InvalidArgument("commit() needs a consumer group", hint="pass group=... to the consumer")
        by_topic: dict[str, dict[int, int]] = {}
        for (topic, p), pos in self._positions.items():
            by_topic.setdefault(topic, {})[p] = pos
        for topic, offsets in by_topic.items():
            self.log.commit(self.group, topic, offsets)

    def lag(self) -> dict[TP, int]:
        """Records between the current position and the end, per partition."""
        return {tp: self.log.offsets(*tp)[1] - pos for tp, pos in self._positions.items()}
