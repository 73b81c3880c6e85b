"""The latency-target trigger: `riverbed run P --latency-target 500ms`.

Spark's trigger interval is fixed for a query's life, and the right value depends on the load: too
long and records wait for the next micro-batch, too short and every batch pays the fixed cost for a
handful of records. Here the query runs back to back and a controller decides after every
micro-batch when the next one may start and how many records it may take:

- the pause before the next batch follows the measured p99 latency (append to store commit):
  it grows while p99 is below the budget (80% of the target), which makes batches bigger and
  cheaper per record, and halves when p99 exceeds the target; at zero pause batches run back to back;
- the records per batch are capped at what the fitted cost of a batch (fixed + per record) says
  can be done within half the budget, but only to clip bursts: the cap stays at least twice the
  typical recent batch and must still process faster than records arrive; when the load does not
  allow the target, throughput wins and there is no cap. (A first version let a cost model fitted
  on small batches throttle the steady state; measured, that doubled p99 at 20,000 events/s.)

Decisions reach the log source through `riverbed.spark.admission`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from riverbed.spark.admission import write_admission

BUDGET = 0.8  # aim below the target, keeping room for noise
MIN_CAP = 1000


@dataclass
class Decision:
    pause_ms: int
    max_records: int | None


@dataclass
class LatencyController:
    """Steers one streaming query toward p99 end-to-end latency under `target_ms`."""

    target_ms: int
    path: Path
    pause_ms: float = 0.0
    cap: int | None = None
    arrival_per_s: float | None = None  # EWMA of records arriving per second
    samples: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=30))  # (n, seconds)
    decisions: list[Decision] = field(default_factory=list)
    _last_start: float | None = None
    _cap_seen: int | None = None

    def __post_init__(self) -> None:
        write_admission(self.path, max_records=None, not_before_ms=None)

    def cost(self) -> tuple[float, float] | None:
        """(fixed seconds, seconds per record) of a micro-batch, least squares over recent batches."""
        pts = [(n, d) for n, d in self.samples if n > 0]
        if len(pts) < 3 or len({n for n, _ in pts}) < 2:
            return None
        k = len(pts)
        mx, my = sum(n for n, _ in pts) / k, sum(d for _, d in pts) / k
        sxx = sum((n - mx) ** 2 for n, _ in pts)
        m = max(sum((n - mx) * (d - my) for n, d in pts) / sxx, 1e-9)
        f = max(my - m * mx, 0.01)
        return f, m

    def after_batch(self, records: int, seconds: float, p99_ms: int | None, started: float) -> Decision:
        """Feed one finished micro-batch (records, its duration, its p99 latency, its monotonic start)."""
        self.samples.append((records, seconds))
        if self._last_start is not None and records and (self.cap is None or records < self.cap):
            rate = records / max(started - self._last_start, 1e-3)  # it took everything that had arrived
            self.arrival_per_s = rate if self.arrival_per_s is None else 0.7 * self.arrival_per_s + 0.3 * rate
        self._last_start = started
        budget = BUDGET * self.target_ms
        if p99_ms is not None:
            if p99_ms > self.target_ms:
                self.pause_ms /= 2
            self.pause_ms = min(max(self.pause_ms + 0.5 * (budget - p99_ms), 0.0), float(self.target_ms))
        self.cap = None
        model = self.cost()
        if model is not None:
            f, m = model
            n = int((budget / 2000 - f) / m)
            # the cap only clips bursts (a backlog after a restart or a spike); it never throttles
            # the steady state: it stays at least twice the recent batches that took all there was
            steady = sorted(r for r, _ in self.samples
                            if r and (self._cap_seen is None or r < self._cap_seen))
            typical = steady[len(steady) // 2] if steady else 0
            keeps_up = self.arrival_per_s is None or n / (f + m * n) >= 1.2 * self.arrival_per_s
            if n >= max(MIN_CAP, 2 * typical) and keeps_up:
                self.cap = n
        self._cap_seen = self.cap
        decision = Decision(round(self.pause_ms), self.cap)
        self.decisions.append(decision)
        write_admission(self.path, max_records=self.cap,
                        not_before_ms=time.time_ns() // 1_000_000 + decision.pause_ms)
        return decision
