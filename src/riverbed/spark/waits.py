"""Waiting out an unavailable log: a broker slow, frozen or restarting is waited for, never fatal,
up to a deadline.

    >>> bounds = waits.call(lambda: log_bounds(log, topics), "kafka://k1:9092",   # doctest: +SKIP
    ...                     "finding the latest offsets (latestOffset)", limit_s=300)

Only errors marked `transient` (LogUnavailable, LogFullError) are waited out; any other error goes
up at once. Retries back off exponentially (0.5 s doubling, capped at 5 s) with jitter, so many
tasks waiting on one broker do not retry in step. One WARNING when an outage starts (what, where,
how long it may last), one every 30 s while it lasts, one when the log answers again; each attempt
is logged at DEBUG only. Past the deadline (counted from the outage's first failure) one
`LogWaitExpired` names the log and what was being done.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from riverbed.config import resolve_broker_wait
from riverbed.errors import LogWaitExpired, RiverbedError

if TYPE_CHECKING:
    from riverbed.log import Log, Record

T = TypeVar("T")
_log = logging.getLogger("riverbed.spark.waits")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 5.0
REPORT_EVERY_S = 30.0

#: Called as on_wait(what, error, delay_s) before each sleep (fault tests watch the waits through it).
OnWait = Callable[[str, RiverbedError, float], None]


def where_of(url: str) -> str:
    """The log URL as messages show it: no query (options may hold secrets), credentials masked."""
    from riverbed.log import mask_url

    return mask_url(url.partition("?")[0])


class BrokerWait:
    """The state of waiting for one log while doing `what`: backoff, deadline and reporting."""

    def __init__(self, url: str, what: str, limit_s: float, on_wait: OnWait | None = None) -> None:
        self.where, self.what, self.limit_s, self.on_wait = where_of(url), what, limit_s, on_wait
        self.since: float | None = None  # monotonic time of the current outage's first failure
        self.attempts = 0
        self._reported = 0.0

    def failed(self, error: RiverbedError) -> None:
        """Re-raise `error` unless it is transient and the deadline is ahead; else log and sleep."""
        if not getattr(error, "transient", False):
            raise error
        now = time.monotonic()
        if self.since is None:
            self.since, self._reported, self.attempts = now, now, 0
            _log.warning("the log at %s is unavailable while %s (%s); waiting for it, up to %.0f s",
                         self.where, self.what, error, self.limit_s)
        waited = now - self.since
        if waited >= self.limit_s:
            raise LogWaitExpired(self.where, self.what, waited, self.limit_s, error) from error
        if now - self._reported >= REPORT_EVERY_S:
            self._reported = now
            _log.warning("still waiting for the log at %s while %s: %.0f s of %.0f s (%s)",
                         self.where, self.what, waited, self.limit_s, error)
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2**self.attempts) * random.uniform(0.5, 1.0)
        delay = max(0.0, min(delay, self.limit_s - waited))
        self.attempts += 1
        _log.debug("attempt %d while %s failed (%s); next in %.2f s", self.attempts, self.what, error, delay)
        if self.on_wait is not None:
            self.on_wait(self.what, error, delay)
        time.sleep(delay)

    def recovered(self) -> None:
        """The log answered: log how long the outage lasted (if there was one) and reset."""
        if self.since is not None:
            _log.warning("the log at %s answered again after %.1f s (%d retries); %s carries on",
                         self.where, time.monotonic() - self.since, self.attempts, self.what)
            self.since = None


def call(fn: Callable[[], T], url: str, what: str, limit_s: float, on_wait: OnWait | None = None) -> T:
    """`fn()`, with transient errors waited out (see BrokerWait) up to `limit_s` seconds."""
    wait = BrokerWait(url, what, limit_s, on_wait)
    while True:
        try:
            result = fn()
        except RiverbedError as e:
            wait.failed(e)
            continue
        wait.recovered()
        return result


def with_log(url: str, fn: Callable[[Log], T], what: str, limit_s: float | None = None,
             on_wait: OnWait | None = None) -> T:
    """`fn(log)` on the log at `url`, opened for the call; an unavailable log (opening included) is
    waited for up to `limit_s` (default: $RIVERBED_BROKER_WAIT or 300 s)."""
    from riverbed.log import open_log

    def attempt() -> T:
        with open_log(url) as log:
            return fn(log)

    return call(attempt, url, what, resolve_broker_wait() if limit_s is None else limit_s, on_wait)


def append_all(url: str, by_topic: dict[str, list[Record]], limit_s: float, chunk: int = 1000) -> None:
    """Append each topic's records in chunks through one log, an unavailable log waited for chunk by
    chunk: a chunk whose append timed out is sent again (it may then be stored twice, never lost)."""
    from riverbed.log import open_log

    log: Log | None = None
    try:
        for topic, records in by_topic.items():
            for i in range(0, len(records), chunk):
                wait = BrokerWait(url, f"appending to {topic} (sink)", limit_s)
                while True:
                    try:
                        log = log or open_log(url)
                        log.append(topic, records[i : i + chunk])
                    except RiverbedError as e:
                        wait.failed(e)
                        continue
                    wait.recovered()
                    break
    finally:
        if log is not None:
            log.close()
