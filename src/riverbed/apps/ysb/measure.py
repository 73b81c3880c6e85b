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
