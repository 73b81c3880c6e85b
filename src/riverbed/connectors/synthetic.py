"""Synthetic server logs in the loghub formats, with realistic levels and error bursts.

Each line picks a format, then a message template by weights modelled on the loghub samples
(mostly INFO, some WARN, rare ERROR). Now and then one component has an error burst (a few
hundred lines where its error message is frequent), so an alerting app has something to find.
The same `seed` gives the same lines; with `start_ms` the event times are `start_ms + i/rate`
too, otherwise each line's time is the wall clock when it is made.

    >>> gen = LogGenerator(seed=7, start_ms=0, rate=100)
    >>> next(gen.lines()).format in FORMATS
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from riverbed.connectors.base import Item, Source
from riverbed.connectors.synthetic_templates import TEMPLATES, Template
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record, now_ms

#: The formats the generator writes (syslog split into its two kinds of host, as loghub has them).
FORMATS = ("hdfs", "hadoop", "spark", "apache", "linux", "openssh")
#: Share of lines per format (a cluster: HDFS and Spark chatty, web and auth logs less so).
DEFAULT_MIX = {"hdfs": 0.25, "hadoop": 0.15, "spark": 0.25, "apache": 0.1, "linux": 0.1, "openssh": 0.15}


@dataclass(frozen=True, slots=True)
class LogLine:
    """One generated line with what it was made from (tests and demos check these)."""

    format: str
    time_ms: int
    level: str
    component: str
    text: str
    burst: bool


def _stamp(fmt: str, t_ms: int) -> str:
    d = datetime.fromtimestamp(t_ms / 1000, UTC)
    if fmt == "hdfs":
        return d.strftime("%y%m%d %H%M%S")
    if fmt == "hadoop":
        return d.strftime("%Y-%m-%d %H:%M:%S,") + f"{d.microsecond // 1000:03d}"
    if fmt == "spark":
        return d.strftime("%y/%m/%d %H:%M:%S")
    if fmt == "apache":
        return d.strftime("%a %b %d %H:%M:%S %Y")
    return d.strftime("%b ") + f"{d.day:2d}" + d.strftime(" %H:%M:%S")


class _Fields(dict):
    """format_map mapping that draws a fresh random value for every placeholder occurrence."""

    def __init__(self, rng: random.Random, makers: dict[str, Callable[[random.Random], Any]]) -> None:
        super().__init__()
        self.rng, self.makers = rng, makers

    def __missing__(self, key: str) -> Any:
        return self.makers[key](self.rng)


class LogGenerator:
    """Deterministic (per `seed`) stream of `LogLine`s in `formats` mixed by `mix` weights.

    `burst_every` is the mean number of lines between error bursts; a burst lasts
    `burst_lines` lines, during which `burst_share` of all lines are the bursting error.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        formats: Sequence[str] = FORMATS,
        mix: dict[str, float] | None = None,
        start_ms: int | None = None,
        rate: float = 100.0,
        burst_every: int = 3000,
        burst_lines: tuple[int, int] = (100, 400),
        burst_share: float = 0.3,
    ) -> None:
        unknown = [f for f in formats if f not in TEMPLATES]
        if unknown or not formats:
            raise InvalidArgument(f"unknown log formats {unknown or formats}", hint=f"use some of {FORMATS}")
        if rate <= 0:
            raise InvalidArgument(f"rate must be > 0 lines/s, got {rate}")
        self.rng = random.Random(seed)
        self.formats = list(formats)
        weights = mix or DEFAULT_MIX
        self.format_weights = [weights.get(f, 0.1) for f in self.formats]
        self.start_ms, self.rate = start_ms, rate
        self.burst_every, self.burst_lines, self.burst_share = burst_every, burst_lines, burst_share
        self._burst: tuple[str, Template] | None = None
        self._burst_left = 0
        self._fields = _Fields(self.rng, _MAKERS)

    def lines(self) -> Iterator[LogLine]:
        """Lines forever (stop iterating when done)."""
        rng, i = self.rng, 0
        while True:
            t = self.start_ms + int(i * 1000 / self.rate) if self.start_ms is not None else now_ms()
            i += 1
            if self._burst_left == 0 and rng.random() < 1 / self.burst_every:
                fmt = rng.choices(self.formats, self.format_weights)[0]
                errors = [tp for tp in TEMPLATES[fmt] if tp.level not in ("INFO", "NOTICE")]
                if errors:
                    self._burst = (fmt, rng.choice(errors))
                    self._burst_left = rng.randint(*self.burst_lines)
            if self._burst_left > 0:
                self._burst_left -= 1
                if rng.random() < self.burst_share:
                    assert self._burst is not None
                    yield self._make(*self._burst, t, burst=True)
                    continue
            fmt = rng.choices(self.formats, self.format_weights)[0]
            templates = TEMPLATES[fmt]
            tpl = rng.choices(templates, [tp.weight for tp in templates])[0]
            yield self._make(fmt, tpl, t, burst=False)

    def _make(self, fmt: str, tpl: Template, t: int, *, burst: bool) -> LogLine:
        msg = tpl.text.format_map(self._fields)
        stamp = _stamp(fmt, t)
        rng = self.rng
        if fmt == "hdfs":
            text = f"{stamp} {rng.randint(10, 30000)} {tpl.level} {tpl.component}: {msg}"
        elif fmt == "hadoop":
            text = f"{stamp} {tpl.level} [{tpl.thread.format_map(self._fields)}] {tpl.component}: {msg}"
        elif fmt == "spark":
            text = f"{stamp} {tpl.level} {tpl.component}: {msg}"
        elif fmt == "apache":
            text = f"[{stamp}] [{tpl.level.lower()}] {msg}"
        else:
            host = "LabSZ" if fmt == "openssh" else "combo"
            text = f"{stamp} {host} {tpl.component}[{rng.randint(1000, 32000)}]: {msg}"
        return LogLine(fmt, t, tpl.level, tpl.component, text, burst)


class SyntheticLogs(Source):
    """Generated log lines as Records: value = line, timestamp = event time, key per `key_by`.

    `key_by` "component" or "format" keys each record (so one component's lines stay in order
    in one partition); None leaves them unkeyed. `count` stops after that many lines.
    """

    name = "synthetic-logs"

    def __init__(
        self, seed: int = 0, *, count: int | None = None, key_by: str | None = None, **options: Any
    ) -> None:
        super().__init__()
        if key_by not in (None, "format", "component"):
            raise InvalidArgument(f"key_by must be None, 'format' or 'component', got {key_by!r}")
        self.generator = LogGenerator(seed, **options)
        self.count, self.key_by = count, key_by
        self.produced = 0

    def read(self) -> Iterator[Item]:
        for line in self.generator.lines():
            if self.stopped or (self.count is not None and self.produced >= self.count):
                return
            self.produced += 1
            key = getattr(line, self.key_by).encode() if self.key_by else None
            yield Record(line.text.encode(), key=key, timestamp=line.time_ms)

    def snapshot(self) -> dict[str, Any]:
        return {"produced": self.produced}


def _ip(rng: random.Random) -> str:
    return f"10.251.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _public_ip(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


_MAKERS: dict[str, Callable[[random.Random], Any]] = {
    "ip": _ip,
    "pubip": _public_ip,
    "blk": lambda r: r.randint(-(2**63), 2**63 - 1),
    "size": lambda r: r.choice([67108864, 67108864, 67108864, r.randint(1000, 67108864)]),
    "port": lambda r: r.randint(32768, 60999),
    "n": lambda r: r.randint(0, 63),
    "n2": lambda r: r.randint(0, 2),
    "tid": lambda r: r.randint(1, 9999),
    "stage": lambda r: r.randint(0, 40),
    "bytes": lambda r: r.randint(900, 3000),
    "ms": lambda r: r.randint(1, 900),
    "frac": lambda r: f"{r.random():.6f}",
    "pid": lambda r: r.randint(1000, 32000),
    "slot": lambda r: r.randint(0, 15),
    "user": lambda r: r.choice(["root", "admin", "test", "oracle", "guest", "user", "webmaster", "ftpuser"]),
    "job": lambda r: f"{r.randint(1, 40):04d}",
    "attempt": lambda r: f"attempt_1445144423722_{r.randint(1, 40):04d}_m_{r.randint(0, 20):06d}_0",
    "host": lambda r: f"msra-sa-{r.randint(10, 50)}",
    "handler": lambda r: r.randint(0, 29),
    "secs": lambda r: r.randint(60, 500),
    "rdd": lambda r: f"rdd_{r.randint(1, 60)}_{r.randint(0, 7)}",
}
