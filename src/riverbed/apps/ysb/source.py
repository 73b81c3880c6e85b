"""YSB's real-time generator as a riverbed connector: event i is emitted at its scheduled wall-clock
time start + i / rate (sleeping, never spinning, while ahead), with that time as its event_time."""

from __future__ import annotations

import time
from collections.abc import Iterator

from riverbed.apps.ysb.generator import LATE_EVERY, YsbGenerator
from riverbed.connectors.base import Item, Source
from riverbed.errors import InvalidArgument

AHEAD_S = 0.005  # sleep once the schedule is this far ahead of the clock (bursts of <= 5 ms)


class YsbSource(Source):
    """Paced YSB ad events (JSON, every value a string) at `rate` events/s, forever or `n` of them."""

    name = "ysb"

    def __init__(
        self, rate: float, *, seed: int = 0, skew: bool = False, late_every: int = LATE_EVERY,
        n: int | None = None,
    ) -> None:
        super().__init__()
        if rate <= 0:
            raise InvalidArgument(f"rate must be > 0 events/s, got {rate}")
        self.rate, self.n = rate, n
        self.generator = YsbGenerator(seed, skew=skew, late_every=late_every)
        self.emitted = 0

    def read(self) -> Iterator[Item]:
        start_ms = time.time_ns() // 1_000_000
        start = time.monotonic()
        for i, event in enumerate(self.generator.events(start_ms, self.rate, self.n)):
            while not self.stopped:
                ahead = start + i / self.rate - time.monotonic()
                if ahead <= AHEAD_S:
                    break
                self._stop.wait(min(ahead, 0.2))
                if ahead > 0.2:
                    yield None  # let the ingestor flush and notice a stop
            if self.stopped:
                return
            self.emitted = i + 1
            yield event.value
