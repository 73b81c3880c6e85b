"""The connector contract: a `Source` yields items, an `Ingestor` appends them to a topic.

A source yields `bytes` (one text line, no newline), `Record`s (when it knows key or event
time), `Rejected` (input it could not frame, e.g. an over-long line), or `None` when it has
nothing right now (at least every ~0.2 s), so the ingestor can flush on time and notice `stop()`.
The ingestor batches (flush at `batch_size` records or `linger_ms`), paces with a token bucket,
retries transient log errors with exponential backoff, and sends every record the `decode` hook
rejects to `<topic>.dlq` with the reason: bad input is kept, never dropped, never fatal.
"""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from riverbed.errors import InvalidArgument
from riverbed.log.api import Record


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input a source could not turn into a record; goes to the DLQ with `reason`."""

    value: bytes
    reason: str


Item = bytes | Record | Rejected | None
Decode = Callable[[Record], Record]
#: An app's check of one decoded message, handed to a connector (`check=`): returns the record key
#: (None: unkeyed) or raises ValueError, whose text becomes the dead-letter reason. Connectors know
#: the wire format; what makes a message usable belongs to the app that reads it.
Check = Callable[[dict[str, Any]], str | None]


class Source(ABC):
    """Where records come from. `read()` is iterated by one thread; `stop()` may come from any."""

    #: Short kind name, used in the DLQ header "riverbed.source" as "connector:<name>".
    name: str = "source"

    def __init__(self) -> None:
        self._stop = threading.Event()

    @abstractmethod
    def read(self) -> Iterator[Item]:
        """Yield items until the input ends or `stop()` is called (then return soon, cleanly)."""

    def stop(self) -> None:
        """Ask `read()` to finish: safe from signal handlers and other threads."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> dict[str, Any]:
        """Where this source is, so a new one can resume there (bytewax-style); {} if it cannot."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional
        """Release sockets and files."""


class TokenBucket:
    """Paces to `rate` per second with bursts up to `burst`, by sleeping (never busy-waiting)."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise InvalidArgument(f"rate must be > 0 per second, got {rate}")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate / 20))
        self._tokens = self.capacity
        self._last = time.monotonic()

    def acquire(self, n: float = 1.0, stop: threading.Event | None = None) -> None:
        """Take `n` tokens, sleeping until they are there (returns early if `stop` is set)."""
        while True:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= n or (stop is not None and stop.is_set()):
                self._tokens -= n
                return
            wait = (n - self._tokens) / self.rate
            if stop is not None:
                stop.wait(min(wait, 0.2))
            else:
                time.sleep(wait)


@dataclass(slots=True)
class IngestStats:
    """Counts of one ingest run: every record in is either written or rejected (to the DLQ)."""

    records_in: int = 0
    written: int = 0
    rejected: int = 0
    batches: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self) -> str:
        rate = self.written / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"records in {self.records_in:,} / written {self.written:,} / rejected {self.rejected:,}"
            f" ({rate:,.0f}/s over {self.elapsed:.1f}s, {self.batches} batches, {self.retries} retries)"
        )


def utf8_text(record: Record) -> Record:
    """Decode hook: reject values that are not valid UTF-8 text (the reason names the byte)."""
    try:
        (record.value or b"").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"invalid UTF-8 at byte {e.start}: {e.reason}") from None
    return record


def key_from_regex(pattern: str) -> Decode:
    """Decode hook: key each record by the regex's first group (or whole match); no match: no key."""
    rx = re.compile(pattern.encode())

    def keyed(record: Record) -> Record:
        m = rx.search(record.value or b"")
        if not m:
            return record
        key = m.group(1) if rx.groups else m.group(0)
        return Record(record.value, key, record.timestamp, record.headers, record.partition)

    return keyed


def chain(*hooks: Decode | None) -> Decode | None:
    """One decode hook running `hooks` in order (None entries skipped)."""
    fs = [h for h in hooks if h is not None]
    if not fs:
        return None
    if len(fs) == 1:
        return fs[0]

    def run(record: Record) -> Record:
        for f in fs:
            record = f(record)
        return record

    return run


class LineSplitter:
    """Cuts a byte stream into lines ("\\n", with a trailing "\\r" trimmed), keeping partial lines.

    A line that grows past `max_line_bytes` without a newline becomes one `Rejected` item holding
    its first `max_line_bytes` bytes; the rest of it, up to the next newline, is skipped.
    """

    def __init__(self, max_line_bytes: int = 1 << 20) -> None:
        self.max_line_bytes = max_line_bytes
        self.pending = b""
        self._skipping = False

    def feed(self, chunk: bytes) -> list[bytes | Rejected]:
        """The lines completed by `chunk`."""
        out: list[bytes | Rejected] = []
        *lines, rest = (self.pending + chunk).split(b"\n")
        for line in lines:
            if self._skipping:
                self._skipping = False
                continue
            out.append(self._line(line))
        if self._skipping:
            rest = b""
        elif len(rest) > self.max_line_bytes:
            out.append(self._too_long(rest))
            rest, self._skipping = b"", True
        self.pending = rest
        return out

    def finish(self) -> list[bytes | Rejected]:
        """The unterminated last line, if any (its stream has ended), and a reset."""
        rest, self.pending, skipping, self._skipping = self.pending, b"", self._skipping, False
        return [self._line(rest)] if rest and not skipping else []

    def _line(self, line: bytes) -> bytes | Rejected:
        if line.endswith(b"\r"):
            line = line[:-1]
        return self._too_long(line) if len(line) > self.max_line_bytes else line

    def _too_long(self, line: bytes) -> Rejected:
        n = self.max_line_bytes
        return Rejected(line[:n], f"line longer than {n} bytes (the dead letter keeps its first {n} bytes)")
