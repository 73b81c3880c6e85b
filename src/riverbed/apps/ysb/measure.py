"""How a YSB run is judged, the same for riverbed and for the peer engines: window latency
percentiles, lag over time, whether the rate was sustainable, and YSB's `-c` correctness check.

Sustainable: everything written was processed (after a bounded drain), the lag when the generator
stopped was at most `max_lag_s` of input, and the lag was not growing: its least-squares slope over
the second half of the run is at most `MAX_LAG_SLOPE` seconds of lag per second of run (the engine
kept up with at least ~98% of the input rate; micro-batches make the lag a sawtooth, which the fit
averages out).
"""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from riverbed.apps.ysb.generator import YsbGenerator, expected_counts

MAX_LAG_SLOPE = 0.02


def percentiles(values: list[int]) -> dict[str, int | None]:
    """p50/p90/p99 (inclusive method); None when there are no values."""
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    if len(values) == 1:
        return {"p50": values[0], "p90": values[0], "p99": values[0]}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49]), "p90": round(q[89]), "p99": round(q[98])}


@dataclass
class PacedRun:
    """What one paced run observed, in the form `judge` takes."""

    samples: list[tuple[float, int, int]]  # (t since start, written, processed)
    written: int
    backlog_at_stop: int
    drained: float
    start_ms: int
    stop_ms: int


def _generate(url: str, topic: str, rate: float, duration: float, seed: int, written: Any, ready: Any,
              go: Any) -> None:
    """The generator process: YSB events at `rate`/s for `duration` s into `topic` of the log at
    `url`; `written` (a shared counter) follows the records acknowledged."""
    from riverbed.apps.ysb.source import YsbSource
    from riverbed.connectors import Ingestor
    from riverbed.log import open_log

    with open_log(url) as log:
        ingestor = Ingestor(log, topic, batch_size=max(100, int(rate / 20)), linger_ms=50)
        done = threading.Event()

        def report() -> None:
            while not done.wait(0.05):
                written.value = ingestor.stats.written

        reporter = threading.Thread(target=report, daemon=True)
        ready.set()
        go.wait()
        reporter.start()
        try:
            ingestor.run(YsbSource(rate, seed=seed), duration=duration)
        finally:
            done.set()
            reporter.join()
            written.value = ingestor.stats.written


def paced_run(
    log: Any, topic: str, rate: float, duration: float, processed: Callable[[], int], *, seed: int = 0,
    drain_s: float = 30.0, on_sample: Callable[[], None] | None = None,
    on_stop: Callable[[int], None] | None = None, alive: Callable[[], bool] = lambda: True,
) -> PacedRun:
    """YSB's paced generator appending to `topic` for `duration` s, in a process of its own (as
    YSB's is, and so that it takes no interpreter time from an engine's driver), the engine's
    `processed()` count sampled every 0.5 s, then a drain of up to `drain_s` s (or until `alive()`
    turns false). `on_stop(written)` is called when the generator stops."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds a JVM gateway
    written, ready, go = ctx.Value("q", 0), ctx.Event(), ctx.Event()
    gen = ctx.Process(target=_generate, args=(log.url, topic, rate, duration, seed, written, ready, go),
                      name="ysb-generator", daemon=True)
    gen.start()
    deadline = time.monotonic() + 60
    while not ready.wait(0.2):
        if not gen.is_alive() or time.monotonic() > deadline:
            gen.kill()
            raise RuntimeError(f"the YSB generator process did not start (exit code {gen.exitcode})")
    samples: list[tuple[float, int, int]] = []
    start_ms, t0 = time.time_ns() // 1_000_000, time.monotonic()
    go.set()

    def sample() -> int:
        samples.append((time.monotonic() - t0, written.value, processed()))
        if on_sample is not None:
            on_sample()
        return samples[-1][2]

    while gen.is_alive():
        gen.join(0.5)
        sample()
    if gen.exitcode != 0:
        raise RuntimeError(f"the YSB generator process failed (exit code {gen.exitcode})")
    stop_ms, stopped = time.time_ns() // 1_000_000, time.monotonic()
    total = written.value
    backlog_at_stop = total - sample()
    if on_stop is not None:
        on_stop(total)
    while sample() < total and time.monotonic() - stopped < drain_s and alive():
        time.sleep(0.25)
    return PacedRun(samples, total, backlog_at_stop, time.monotonic() - stopped, start_ms, stop_ms)


def lag_slope(lags: list[tuple[float, float]]) -> float:
    """Least-squares slope (s of lag per s) of the second half of (t, lag_s) samples; 0 when too few."""
    pts = lags[len(lags) // 2:]
    if len(pts) < 3:
        return 0.0
    mt = sum(t for t, _ in pts) / len(pts)
    ml = sum(v for _, v in pts) / len(pts)
    sxx = sum((t - mt) ** 2 for t, _ in pts)
    return 0.0 if sxx == 0 else sum((t - mt) * (v - ml) for t, v in pts) / sxx


def judge(
    *, rate: float, duration: float, samples: list[tuple[float, int, int]], written: int, processed: int,
    backlog_at_stop: int, drained: float, rows: list[dict[str, Any]], start_ms: int, stop_ms: int,
    max_lag_s: float = 5.0,
) -> dict[str, Any]:
    """The common figures of one paced run. `samples` are (t since start, written, processed);
    `rows` the final (campaign_id, window_start, window_end, count, updated_ms) rows."""
    lags = [(t, (w - p) / rate) for t, w, p in samples if t <= duration]
    slope = lag_slope(lags)
    end_lag = backlog_at_stop / rate
    complete = [r for r in rows if r["window_start"] >= start_ms and r["window_end"] <= stop_ms]
    lat = sorted(r["updated_ms"] - r["window_end"] for r in complete)
    return {
        "rate": rate,
        "duration_s": duration,
        "events_written": written,
        "events_processed": processed,
        "events_per_s": round(processed / (duration + drained)),
        "latency_ms": percentiles(lat),
        "windows_measured": len(lat),
        "lag_s_at_stop": round(end_lag, 2),
        "lag_s_max": round(max((x for _, x in lags), default=0.0), 2),
        "lag_slope": round(slope, 4),
        "drain_s": round(drained, 2),
        "sustainable": processed == written and end_lag <= max_lag_s and slope <= MAX_LAG_SLOPE,
    }


def first_event_ms(log: Any, topic: str) -> int:
    """The generator's start time: the smallest event_time among the partitions' first records."""
    firsts = [log.read(topic, p.partition, p.start_offset, 1) for p in log.describe(topic).partitions]
    return min(int(json.loads(r[0].value)["event_time"]) for r in firsts if r)


def expected(
    seed: int, start_ms: int, rate: float, n: int, chunk: int = 100_000
) -> dict[tuple[str, int], int]:
    """expected_counts over the generator's first n events, a chunk at a time (millions fit)."""
    gen, total = YsbGenerator(seed), {}
    events = gen.events(start_ms, rate, n)
    while batch := list(itertools.islice(events, chunk)):
        for k, v in expected_counts(batch, gen.ad_to_campaign).items():
            total[k] = total.get(k, 0) + v
    return total


def check(rows: list[dict[str, Any]], want: dict[tuple[str, int], int]) -> tuple[bool, int]:
    """YSB's -c: (every window's count equals the independent count, number of wrong windows)."""
    got = {(r["campaign_id"], r["window_start"]): r["count"] for r in rows}
    wrong = {k for k in got.keys() | want.keys() if got.get(k) != want.get(k)}
    return not wrong, len(wrong)
