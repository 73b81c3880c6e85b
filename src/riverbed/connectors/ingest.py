"""`Ingestor`: drains a `Source` into a topic in batches, paced, retried, with a dead-letter topic.

>>> from riverbed.connectors import Ingestor, SyntheticLogs
>>> stats = Ingestor(log, "logs", rate=500).run(SyntheticLogs(seed=1), duration=2)  # doctest: +SKIP
>>> print(stats.line())                                                            # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from riverbed.connectors.base import Decode, IngestStats, Rejected, Source, TokenBucket
from riverbed.dlq import dead_letter_record, write_dead_letters
from riverbed.errors import InvalidArgument, LogError
from riverbed.log.api import AppendResult, Log, Record, now_ms

MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class Ingestor:
    """Appends what a source yields to `topic`: flush at `batch_size` records or `linger_ms`.

    `rate` (records/s) paces with a token bucket; transient `LogError`s are retried up to
    `max_retries` times with exponential backoff from `backoff_s` (a retried batch may be written
    twice if the first try half-succeeded: at-least-once); `decode` may rewrite or reject (raise)
    each record: rejects go to `<topic>.dlq` with the reason. `progress(stats)` is called every
    `progress_every_s` seconds.
    """

    def __init__(
        self,
        log: Log,
        topic: str,
        *,
        batch_size: int = 500,
        linger_ms: int = 200,
        rate: float | None = None,
        decode: Decode | None = None,
        max_retries: int = 6,
        backoff_s: float = 0.05,
        max_backoff_s: float = 5.0,
        progress: Callable[[IngestStats], None] | None = None,
        progress_every_s: float = 5.0,
    ) -> None:
        if batch_size < 1:
            raise InvalidArgument(f"batch_size must be >= 1, got {batch_size}")
        if linger_ms < 0:
            raise InvalidArgument(f"linger_ms must be >= 0, got {linger_ms}")
        self.log, self.topic = log, topic
        self.batch_size, self.linger_s = batch_size, linger_ms / 1000
        self.bucket = TokenBucket(rate) if rate else None
        self.decode = decode
        self.max_retries, self.backoff_s, self.max_backoff_s = max_retries, backoff_s, max_backoff_s
        self.progress, self.progress_every_s = progress, progress_every_s
        self.stats = IngestStats()
        self._source: Source | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish soon: the source stops, what it already gave is flushed. Signal-handler safe."""
        self._stopping.set()
        if self._source is not None:
            self._source.stop()

    def run(
        self, source: Source, *, duration: float | None = None, max_records: int | None = None
    ) -> IngestStats:
        """Drain `source` until it ends, `stop()`, `duration` seconds or `max_records`; returns stats."""
        self._source, stats = source, self.stats
        origin = f"connector:{source.name}"
        hook = getattr(self.decode, "__name__", "decode")
        deadline = time.monotonic() + duration if duration is not None else None
        pending: list[Record] = []
        rejects: list[Record] = []
        last_flush = last_progress = time.monotonic()
        if self._stopping.is_set():
            source.stop()
        try:
            for item in source.read():
                if item is not None:
                    if self.bucket is not None:
                        self.bucket.acquire(1, stop=source._stop)
                    stats.records_in += 1
                    self._accept(item, origin, hook, pending, rejects)
                now = time.monotonic()
                if len(pending) + len(rejects) >= self.batch_size or (
                    (pending or rejects) and now - last_flush >= self.linger_s
                ):
                    self._flush(pending, rejects)
                    last_flush = now
                if self.progress is not None and now - last_progress >= self.progress_every_s:
                    self.progress(stats)
                    last_progress = now
                if (deadline is not None and now >= deadline) or (
                    max_records is not None and stats.records_in >= max_records
                ):
                    source.stop()
        finally:
            try:
                self._flush(pending, rejects)
            finally:
                source.close()
                self._source = None
        return stats

    def _accept(
        self,
        item: bytes | Record | Rejected,
        origin: str,
        hook: str,
        pending: list[Record],
        rejects: list[Record],
    ) -> None:
        """Decode one item into `pending`, or into `rejects` as a dead letter with the reason."""
        if isinstance(item, Rejected):
            rejects.append(dead_letter_record(item.value, item.reason, origin))
            return
        rec = item if isinstance(item, Record) else Record(item, timestamp=now_ms())
        if self.decode is not None:
            try:
                rec = self.decode(rec)
            except Exception as e:  # a user hook: any failure is a reject, never a crash
                reason = f"{hook}: {type(e).__name__}: {e}"
                rejects.append(dead_letter_record(rec.value, reason, origin, rec.key))
                return
        ts = rec.timestamp
        if ts is not None and not (isinstance(ts, int) and 0 <= ts <= MAX_TIMESTAMP_MS):
            # one such record would fail the whole batch's append (and stop the ingestor)
            reason = f"event time {ts!r} ms is out of range (1970-01-01 .. 9999-12-31)"
            rejects.append(dead_letter_record(rec.value, reason, origin, rec.key))
            return
        pending.append(rec)

    def _flush(self, pending: list[Record], rejects: list[Record]) -> None:
        """Write the batch, then its rejects to the DLQ; clears both lists once written."""
        if pending:
            self._retrying(lambda: self.log.append(self.topic, pending))
            self.stats.written += len(pending)
            self.stats.batches += 1
            pending.clear()
        if rejects:
            self._retrying(lambda: write_dead_letters(self.log, self.topic, rejects))
            for r in rejects:
                reason = dict(r.headers).get("riverbed.reason", b"").decode("utf-8", "replace")
                short = reason.split(":", 1)[0] if len(reason) > 60 else reason
                self.stats.reasons[short] = self.stats.reasons.get(short, 0) + 1
            self.stats.rejected += len(rejects)
            rejects.clear()

    def _retrying(self, write: Callable[[], AppendResult | None]) -> None:
        delay = self.backoff_s
        for attempt in range(self.max_retries + 1):
            try:
                write()
                return
            except LogError as e:
                if not e.transient or attempt == self.max_retries:
                    raise
                self.stats.retries += 1
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
