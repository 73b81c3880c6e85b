"""Warming the JVM before a YSB measurement: Spark's JIT compiles the hot paths of a micro-batch
(the driver's planning as well as the tasks) over hundreds of micro-batches, not a handful.

Here (2 cores) a cold JVM spent 0.83 of a warm-up loop's wall time compiling, 0.33 by the third
loop and 0.15 by the eighth, while riverbed's ceiling rose from 96,544 to 181,094 events/s (the
rate source's from 138,677 to 204,332; BENCHMARKS.md, YSB).
A ceiling is a steady-state figure, so `warm_up` can run until the compiling has died down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: The warm-up before a ceiling: until the JIT compiles for under 15% of a loop, at most 10 loops
#: (here: 7-8 loops of a million events each, ~2.5 min).
STEADY: dict[str, Any] = {"until_jit_below": 0.15, "max_loops": 10, "events": 1_000_000}


def jit_seconds(spark: Any) -> float | None:
    """The driver JVM's JIT compile time so far, in seconds (summed over its compiler threads);
    None where the JVM does not report it."""
    try:
        bean = spark._jvm.java.lang.management.ManagementFactory.getCompilationMXBean()
        return bean.getTotalCompilationTime() / 1000 if bean.isCompilationTimeMonitoringSupported() else None
    except Exception:  # a JVM without the bean gives no figure; the benchmark goes on
        return None


def warm_up(spark: Any, *, seed: int = 0, events: int = 600_000, batch: int = 100_000,
            until_jit_below: float | None = None, max_loops: int = 1,
            note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the ysb stream and the rate-source query over `events` each, untimed, once; or, with
    `until_jit_below`, again (at most `max_loops` times) until the JIT compiled for less than that
    share of a loop's wall time. Returns each loop's seconds, JIT seconds and events/s."""
    from riverbed.apps.ysb.bench import run_prefill
    from riverbed.apps.ysb.ceiling import run_rate_source_prefill

    loops: list[dict[str, Any]] = []
    for i in range(max(1, max_loops)):
        t, jit = time.monotonic(), jit_seconds(spark)
        ours = run_prefill(spark, events, batch, seed=seed)["events_per_s"]
        rate = run_rate_source_prefill(spark, events, batch, seed=seed)["events_per_s"]
        secs, jit_after = time.monotonic() - t, jit_seconds(spark)
        share = None if jit is None or jit_after is None else (jit_after - jit) / secs
        loops.append({"seconds": round(secs, 1), "jit_share": None if share is None else round(share, 3),
                      "riverbed_events_per_s": ours, "rate_source_events_per_s": rate})
        if note:
            note(f"warm-up {i + 1}: {secs:.0f} s, JIT {'?' if share is None else f'{share:.2f}'} of it; "
                 f"riverbed {ours:,} / rate source {rate:,} events/s")
        if until_jit_below is None or share is None or share < until_jit_below:
            break
    return {"events_per_loop": events, "until_jit_below": until_jit_below, "loops": loops}
