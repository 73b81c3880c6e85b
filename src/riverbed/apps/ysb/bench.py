"""The Yahoo Streaming Benchmark run on riverbed: at each input rate, a paced generator thread
appends YSB events to an embedded log while the ysb pipeline streams with its default trigger.

Per rate: events/s processed, YSB's window latency (updated_ms of a window's last update minus the
window's end) as p50/p90/p99 over the (campaign, window) pairs whose window lies wholly inside the
run, the lag (events appended but not yet processed, in seconds of input), driver and JVM peak RSS.
A rate is sustainable when the lag stays bounded: at most `max_lag_s` of input behind at the end
and not growing between the first and the last third of the run. `find_max` steps the rate up by
`step` from the last sustainable fixed rate until it is not.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TOPIC = "ad-events"


def _rss_kb(pid: int, field: str = "VmRSS") -> int | None:
    """A process's resident memory (or its peak, VmHWM) in kB from /proc; None where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def jvm_pid(spark: Any) -> int | None:
    """The Spark driver JVM's process id (asked of the JVM itself)."""
    try:
        return int(spark._jvm.java.lang.ProcessHandle.current().pid())
    except Exception:  # a remote or Connect session: no local JVM to measure
        return None


def _percentiles(values: list[int]) -> dict[str, int | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    if len(values) == 1:
        return {"p50": values[0], "p90": values[0], "p99": values[0]}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49]), "p90": round(q[89]), "p99": round(q[98])}


def run_rate(spark: Any, rate: float, duration: float, *, seed: int = 0, max_lag_s: float = 5.0,
             drain_s: float = 30.0, work: Path | None = None) -> dict[str, Any]:
    """One fixed-rate run: generate for `duration` s while streaming, drain, measure."""
    from riverbed.apps.ysb.source import YsbSource
    from riverbed.connectors import Ingestor
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.runner import Runner

    home = Path(tempfile.mkdtemp(prefix=f"rb-ysb-{int(rate)}-", dir=work))
    url = f"embedded://{home / 'log'}"
    log = open_log(url)
    try:
        log.ensure_topic(TOPIC, TopicConfig(partitions=1))
        runner = Runner("ysb", log=url, home=home, spark=spark, seed=seed)
        handle = runner.start_stream()  # the default trigger (1 s)
        ingestor = Ingestor(log, TOPIC, batch_size=max(100, int(rate / 20)), linger_ms=50)
        source = YsbSource(rate, seed=seed)
        gen = threading.Thread(target=ingestor.run, args=(source,), kwargs={"duration": duration},
                               name="ysb-generator", daemon=True)
        jpid = jvm_pid(spark)
        samples: list[tuple[float, int, int]] = []  # (t, written, processed)
        jvm_peak = drv_peak = 0
        start_ms, t0 = time.time_ns() // 1_000_000, time.monotonic()
        gen.start()

        def sample() -> int:
            nonlocal jvm_peak, drv_peak
            done = sum(s.records for s in list(handle.history))
            samples.append((time.monotonic() - t0, ingestor.stats.written, done))
            jvm_peak = max(jvm_peak, (_rss_kb(jpid) or 0) if jpid else 0)
            drv_peak = max(drv_peak, _rss_kb(os.getpid()) or 0)
            return done

        while gen.is_alive():
            gen.join(0.5)
            sample()
        stop_ms, stopped = time.time_ns() // 1_000_000, time.monotonic()
        written = ingestor.stats.written
        backlog_at_stop = written - sample()
        while sample() < written and time.monotonic() - stopped < drain_s:
            time.sleep(0.25)
        drained = time.monotonic() - stopped
        processed = samples[-1][2]
        handle.stop()
        rows = runner.store.rows("ysb_counts")
    finally:
        log.close()
    lags = [(t, (w - p) / rate) for t, w, p in samples if t <= duration]
    third = max(1, len(lags) // 3)
    first, last = [x for _, x in lags[:third]], [x for _, x in lags[-third:]]
    growing = bool(first and last) and min(last) > max(first) + 1.0
    end_lag = backlog_at_stop / rate
    complete = [r for r in rows if r["window_start"] >= start_ms and r["window_end"] <= stop_ms]
    lat = sorted(r["updated_ms"] - r["window_end"] for r in complete)
    shutil.rmtree(home, ignore_errors=True)
    return {
        "rate": rate,
        "duration_s": duration,
        "events_written": written,
        "events_processed": processed,
        "events_per_s": round(processed / (duration + drained)),
        "latency_ms": _percentiles(lat),
        "windows_measured": len(lat),
        "lag_s_at_stop": round(end_lag, 2),
        "lag_s_max": round(max((x for _, x in lags), default=0.0), 2),
        "drain_s": round(drained, 2),
        "sustainable": processed == written and end_lag <= max_lag_s and not growing,
        "micro_batches": len([s for s in handle.history if s.records]),
        "driver_peak_rss_mb": round(drv_peak / 1024, 1),
        "jvm_peak_rss_mb": round(jvm_peak / 1024, 1) if jpid else None,
    }


def run_benchmark(rates: list[float], duration: float, *, find_max: bool = True, step: float = 1.5,
                  max_steps: int = 3, seed: int = 0, note=print) -> dict[str, Any]:
    """Every fixed rate, then (optionally) step up to the highest sustainable rate; one JSON-able dict."""
    import platform
    import sys

    from riverbed.spark import get_spark

    spark = get_spark(app_name="riverbed-bench-ysb", conf={"spark.ui.enabled": "false"})
    warm = run_rate(spark, min(rates), min(5.0, duration), seed=seed)  # JIT and first-batch costs
    note(f"warm-up at {warm['rate']:g}/s done")
    results = []
    for r in rates:
        results.append(run_rate(spark, r, duration, seed=seed))
        note(_line(results[-1]))
    best = max((x for x in results if x["sustainable"]), key=lambda x: x["rate"], default=None)
    search = []
    if find_max and best is not None and best["rate"] == max(rates):
        rate = best["rate"]
        for _ in range(max_steps):
            rate = round(rate * step, -2)
            search.append(run_rate(spark, rate, duration, seed=seed))
            note(_line(search[-1]))
            if not search[-1]["sustainable"]:
                break
            best = search[-1]
    jpid = jvm_pid(spark)
    return {
        "benchmark": "ysb",
        "query": "filter view -> project (ad_id, event_time) -> broadcast join ad->campaign -> "
                 "count per (campaign, 10 s window) -> serving store (count sum, updated_ms max)",
        "trigger": "1 second (the default)",
        "fixed_rates": results,
        "search": search,
        "max_sustainable_rate": best["rate"] if best else None,
        "driver_peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "jvm_peak_rss_mb_process": round((_rss_kb(jpid, "VmHWM") or 0) / 1024, 1) if jpid else None,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform(), "spark": spark.version,
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
    }


def _line(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    return (f"rate {r['rate']:g}/s: {r['events_per_s']:,}/s processed, latency p50/p90/p99 "
            f"{lat['p50']}/{lat['p90']}/{lat['p99']} ms over {r['windows_measured']} windows, lag at stop "
            f"{r['lag_s_at_stop']} s, {'sustainable' if r['sustainable'] else 'NOT sustainable'}")


def plot(result: dict[str, Any], path: Path) -> bool:
    """Latency percentiles against throughput as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    runs = sorted(result["fixed_rates"] + result["search"], key=lambda r: r["events_per_s"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for p in ("p50", "p90", "p99"):
        pts = [(r["events_per_s"], r["latency_ms"][p]) for r in runs if r["latency_ms"][p] is not None]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=p)
    ax.set_xlabel("throughput (events/s processed)")
    ax.set_ylabel("window latency (ms, last update - window end)")
    ax.set_title("riverbed YSB: latency vs throughput")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
