"""Reading a topic back whole, the way tests check what a log holds."""

from __future__ import annotations

from riverbed.log import Log, LogRecord


def read_topic(log: Log, topic: str, partition: int | None = None) -> list[LogRecord]:
    """Every retained record of `topic` (or one partition), partition by partition, in offset order.

    Fails loudly if a partition stops short of the end offset it reports: a gap is a bug.
    """
    out: list[LogRecord] = []
    for p in log.describe(topic).partitions:
        if partition is not None and p.partition != partition:
            continue
        offset = p.start_offset
        while offset < p.end_offset:
            batch = log.read(topic, p.partition, offset, 1000)
            if not batch:
                raise AssertionError(
                    f"{topic}[{p.partition}] stopped at {offset} before its end {p.end_offset}"
                )
            out.extend(batch)
            offset = batch[-1].offset + 1
    return out
