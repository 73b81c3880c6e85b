"""The Yahoo Streaming Benchmark's ad events, as its generator (yahoo/streaming-benchmarks,
data/src/setup/core.clj) makes them: 100 campaigns x 10 ads, 100 user ids and 100 page ids drawn
once, event i at t = start + i * (1e9 / rate) ns, every field picked uniformly at random, every
JSON value a string, keys in YSB's order. With `skew`, event times get +-50 ms of jitter and 1 in
`late_every` (YSB: 100,000) events is late by up to 60 s. The same seed gives the same campaigns,
ads and events, so a test or the benchmark can recompute the expected counts independently.

    >>> g = YsbGenerator(seed=1)
    >>> len(g.campaigns), len(g.ad_to_campaign)
    (100, 1000)
    >>> e = next(g.events(start_ms=0, rate=1000)); e.time_ms, e.value.startswith(b'{"user_id": "')
    (0, True)
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from riverbed.errors import InvalidArgument

AD_TYPES = ("banner", "modal", "sponsored-search", "mail", "mobile")
EVENT_TYPES = ("view", "click", "purchase")
NUM_CAMPAIGNS = 100
ADS_PER_CAMPAIGN = 10
WINDOW_MS = 10_000
SKEW_MS = 50
LATE_MAX_MS = 60_000
LATE_EVERY = 100_000


@dataclass(frozen=True, slots=True)
class YsbEvent:
    """One generated event: its JSON bytes plus what a checker needs without parsing them."""

    value: bytes
    time_ms: int
    ad_id: str
    event_type: str
    late: bool = False


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class YsbGenerator:
    """Deterministic (per `seed`) YSB campaigns, ads and event stream."""

    def __init__(self, seed: int = 0, *, skew: bool = False, late_every: int = LATE_EVERY) -> None:
        if late_every <= 0:
            raise InvalidArgument(f"late_every must be > 0, got {late_every}")
        setup = random.Random(f"ysb-setup-{seed}")
        self.campaigns = [_uuid(setup) for _ in range(NUM_CAMPAIGNS)]
        self.ads = [_uuid(setup) for _ in range(NUM_CAMPAIGNS * ADS_PER_CAMPAIGN)]
        self.ad_to_campaign = {
            ad: self.campaigns[i // ADS_PER_CAMPAIGN] for i, ad in enumerate(self.ads)
        }
        self.user_ids = [_uuid(setup) for _ in range(100)]
        self.page_ids = [_uuid(setup) for _ in range(100)]
        self.seed, self.skew, self.late_every = seed, skew, late_every
        self._rng = random.Random(f"ysb-events-{seed}")

    def mapping_rows(self) -> list[tuple[str, str]]:
        """(ad_id, campaign_id) for all 1,000 ads: the static table the pipeline joins with."""
        return list(self.ad_to_campaign.items())

    def event(self, t_ms: int) -> YsbEvent:
        """One event scheduled at `t_ms` (skewed/late per the options), fields drawn at random."""
        rng, late = self._rng, False
        if self.skew:
            t_ms += rng.randint(-SKEW_MS, SKEW_MS)
            if rng.randrange(self.late_every) == 0:
                t_ms -= rng.randint(1, LATE_MAX_MS)
                late = True
        ad, et = rng.choice(self.ads), rng.choice(EVENT_TYPES)
        value = (
            f'{{"user_id": "{rng.choice(self.user_ids)}", "page_id": "{rng.choice(self.page_ids)}", '
            f'"ad_id": "{ad}", "ad_type": "{rng.choice(AD_TYPES)}", "event_type": "{et}", '
            f'"event_time": "{t_ms}", "ip_address": "1.2.3.4"}}'
        )
        return YsbEvent(value.encode(), t_ms, ad, et, late)

    def events(self, start_ms: int, rate: float, n: int | None = None) -> Iterator[YsbEvent]:
        """Events i = 0, 1, ... (n of them, or forever) at start + i * (1e9 / rate) ns."""
        if rate <= 0:
            raise InvalidArgument(f"rate must be > 0 events/s, got {rate}")
        start_ns, step_ns = start_ms * 1_000_000, 1e9 / rate
        i = 0
        while n is None or i < n:
            yield self.event((start_ns + round(i * step_ns)) // 1_000_000)
            i += 1


def expected_counts(events: list[YsbEvent], ad_to_campaign: dict[str, str]) -> dict[tuple[str, int], int]:
    """YSB's `-c` check, in plain Python: view events per (campaign_id, window_start ms)."""
    counts: dict[tuple[str, int], int] = {}
    for e in events:
        if e.event_type == "view":
            key = (ad_to_campaign[e.ad_id], e.time_ms - e.time_ms % WINDOW_MS)
            counts[key] = counts.get(key, 0) + 1
    return counts
