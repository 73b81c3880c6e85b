"""A changing load for the trigger comparison: YSB events at a rate ramping from `lo` up to `hi` over
the first half of the run and back down over the second, the same for every trigger mode.

Per mode (a fixed trigger, or a latency target): events/s processed, YSB's window latency
p50/p90/p99 over the windows wholly inside the run, the largest backlog, micro-batches, and the
latency of each window against its end time (for the plot).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riverbed.apps.ysb.generator import YsbGenerator
from riverbed.apps.ysb.measure import percentiles
from riverbed.connectors.base import Item, Source

SLICE_S = 0.01


class RampSource(Source):
    """YSB events whose rate goes linearly lo -> hi -> lo over `duration` s, paced in 10 ms slices."""

    name = "ysb-ramp"

    def __init__(self, lo: float, hi: float, duration: float, *, seed: int = 0) -> None:
        super().__init__()
        self.lo, self.hi, self.duration = lo, hi, duration
        self.generator = YsbGenerator(seed)

    def rate_at(self, t: float) -> float:
        half = self.duration / 2
        frac = t / half if t <= half else max(0.0, (self.duration - t) / half)
        return self.lo + (self.hi - self.lo) * frac

    def read(self) -> Iterator[Item]:
        start_ms, t0 = time.time_ns() // 1_000_000, time.monotonic()
        owed, k = 0.0, 0
        while not self.stopped and k * SLICE_S < self.duration:
            ahead = t0 + k * SLICE_S - time.monotonic()
            if ahead > 0:
                self._stop.wait(ahead)
                yield None  # let the ingestor flush between slices
            owed += self.rate_at(k * SLICE_S) * SLICE_S
            n, owed = int(owed), owed - int(owed)
            base = start_ms + k * SLICE_S * 1000
            for j in range(n):
                yield self.generator.event(int(base + j * SLICE_S * 1000 / n)).value
            k += 1


def run_ramp(spark: Any, lo: float, hi: float, duration: float, *, trigger_ms: int = 1000,
             latency_target_ms: int | None = None, seed: int = 0, drain_s: float = 60.0,
             work: Path | None = None) -> dict[str, Any]:
    """One mode under the ramp on a fresh embedded log."""
    from riverbed.connectors import Ingestor
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.runner import Runner

    home = Path(tempfile.mkdtemp(prefix="rb-ysb-ramp-", dir=work))
    url = f"embedded://{home / 'log'}"
    with open_log(url) as log:
        log.ensure_topic("ad-events", TopicConfig(partitions=1))
        runner = Runner("ysb", log=url, home=home, spark=spark, seed=seed)
        handle = runner.start_stream(trigger_ms=trigger_ms, latency_target_ms=latency_target_ms)
        ingestor = Ingestor(log, "ad-events", batch_size=max(100, int(hi / 20)), linger_ms=20)
        gen = threading.Thread(target=ingestor.run, args=(RampSource(lo, hi, duration, seed=seed),),
                               name="ysb-ramp", daemon=True)
        start_ms, t0 = time.time_ns() // 1_000_000, time.monotonic()
        gen.start()
        backlog_max = 0
        while gen.is_alive():
            gen.join(0.5)
            done = sum(s.records for s in list(handle.history))
            backlog_max = max(backlog_max, ingestor.stats.written - done)
        stop_ms, stopped = time.time_ns() // 1_000_000, time.monotonic()
        written = ingestor.stats.written
        while (sum(s.records for s in list(handle.history)) < written
               and time.monotonic() - stopped < drain_s):
            time.sleep(0.25)
        drained = time.monotonic() - stopped
        handle.stop()
        processed = sum(s.records for s in handle.history)
        rows = runner.store.rows("ysb_counts")
    shutil.rmtree(home, ignore_errors=True)
    complete = sorted((r for r in rows if r["window_start"] >= start_ms and r["window_end"] <= stop_ms),
                      key=lambda r: r["window_end"])
    per_window: dict[int, int] = {}
    for r in complete:  # a window's latency: its last campaign update after the window's end
        we = r["window_end"]
        per_window[we] = max(per_window.get(we, 0), r["updated_ms"] - we)
    batches = [s for s in handle.history if s.records]
    return {
        "mode": f"latency target {latency_target_ms} ms" if latency_target_ms is not None
        else f"trigger {trigger_ms} ms",
        "ramp": {"lo": lo, "hi": hi, "duration_s": duration},
        "events_written": written,
        "events_processed": processed,
        "events_per_s": round(processed / (stopped - t0 + drained)),
        "latency_ms": percentiles(sorted(r["updated_ms"] - r["window_end"] for r in complete)),
        "windows_measured": len(complete),
        "backlog_max": backlog_max,
        "drain_s": round(drained, 2),
        "micro_batches": len(batches),
        "window_latency": [[(we - start_ms) / 1000, lat] for we, lat in sorted(per_window.items())],
    }
