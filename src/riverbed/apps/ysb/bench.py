"""The Yahoo Streaming Benchmark run on riverbed: at each input rate, a paced generator process
appends YSB events to an embedded log while the ysb pipeline streams with its default trigger.

Per rate: events/s processed, YSB's window latency (updated_ms of a window's last update minus the
window's end) as p50/p90/p99 over the (campaign, window) pairs whose window lies wholly inside the
run, the lag (events appended but not yet processed, in seconds of input), driver and JVM peak RSS.
A rate is sustainable when the lag stays bounded (`riverbed.apps.ysb.measure.judge`: everything
processed, at most `max_lag_s` of input behind at the stop, lag not growing over the second half).
`find_max` steps the rate up by `step` from the last sustainable fixed rate until it is not.
Every run also does YSB's -c check: the final counts equal an independent count of the events.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import resource
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riverbed.apps.ysb.measure import check, expected, first_event_ms, judge, paced_run, percentiles

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
    return percentiles(values)


@contextlib.contextmanager
def _log_for(backend: str, home: Path) -> Iterator[str]:
    """A log URL for one run: an embedded log in `home`, a Kafka URL as given, or "kafka" = a
    Tansu broker started for the run on 127.0.0.1."""
    if backend == "embedded":
        yield f"embedded://{home / 'log'}"
    elif backend == "kafka":
        from riverbed.testing import TansuBroker

        with TansuBroker() as broker:
            yield broker.url
    else:
        yield backend


def run_rate(spark: Any, rate: float, duration: float, *, seed: int = 0, max_lag_s: float = 5.0,
             drain_s: float = 30.0, work: Path | None = None, backend: str = "embedded",
             trigger_ms: int = 1000, latency_target_ms: int | None = None, partitions: int = 1,
             check_counts: bool = True) -> dict[str, Any]:
    """One fixed-rate run: generate for `duration` s while streaming, drain, measure (see measure.judge)."""
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.runner import Runner

    home = Path(tempfile.mkdtemp(prefix=f"rb-ysb-{int(rate)}-", dir=work))
    topic = f"ad-events-{uuid.uuid4().hex[:8]}" if backend != "embedded" else TOPIC
    with _log_for(backend, home) as url:
        log = open_log(url)
        try:
            log.ensure_topic(topic, TopicConfig(partitions=partitions))
            runner = Runner("ysb", log=url, home=home, spark=spark, seed=seed, topic=topic)
            handle = runner.start_stream(trigger_ms=trigger_ms, latency_target_ms=latency_target_ms)
            jpid = jvm_pid(spark)
            jvm_peak = drv_peak = 0

            def peaks() -> None:
                nonlocal jvm_peak, drv_peak
                jvm_peak = max(jvm_peak, (_rss_kb(jpid) or 0) if jpid else 0)
                drv_peak = max(drv_peak, _rss_kb(os.getpid()) or 0)

            run = paced_run(log, topic, rate, duration,
                            lambda: sum(s.records for s in list(handle.history)),
                            seed=seed, drain_s=drain_s, on_sample=peaks)
            written = run.written
            processed = run.samples[-1][2]
            handle.stop()
            rows = runner.store.rows("ysb_counts")
            correct = wrong = None
            if check_counts and written:
                correct, wrong = check(rows, expected(seed, first_event_ms(log, topic), rate, written))
        finally:
            log.close()
    shutil.rmtree(home, ignore_errors=True)
    batches = [s for s in handle.history if s.records]
    mode = (f"latency target {latency_target_ms} ms" if latency_target_ms is not None
            else f"trigger {trigger_ms} ms")
    return {
        "engine": f"riverbed-{'embedded' if backend == 'embedded' else 'kafka'}",
        "mode": mode,
        **judge(rate=rate, duration=duration, samples=run.samples, written=written,
                processed=processed, backlog_at_stop=run.backlog_at_stop, drained=run.drained, rows=rows,
                start_ms=run.start_ms, stop_ms=run.stop_ms, max_lag_s=max_lag_s),
        "correct": correct,
        "wrong_windows": wrong,
        "micro_batches": len(batches),
        "batch_seconds_mean": round(statistics.fmean(s.seconds for s in batches), 3) if batches else None,
        "driver_peak_rss_mb": round(drv_peak / 1024, 1),
        "jvm_peak_rss_mb": round(jvm_peak / 1024, 1) if jpid else None,
    }


def run_prefill(spark: Any, n: int, batch: int, *, seed: int = 0, backend: str = "embedded",
                partitions: int = 1, work: Path | None = None, keep_lake: bool = True) -> dict[str, Any]:
    """riverbed's ceiling in events/s: `n` events written first, then the ysb stream takes them in
    micro-batches of `batch` (availableNow); events/s = rows / the micro-batches' own time, the
    first micro-batch (warm-up) excluded, as for the rate source."""
    from riverbed.apps.ysb.generator import YsbGenerator
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.runner import Runner

    home = Path(tempfile.mkdtemp(prefix="rb-ysb-prefill-", dir=work))
    # event times advance 1 s per micro-batch, as the rate-micro-batch source's do: each batch
    # touches one or two 10 s windows, as a live stream's would
    topic = f"ad-events-{uuid.uuid4().hex[:8]}" if backend != "embedded" else TOPIC
    with _log_for(backend, home) as url:
        with open_log(url) as log:
            log.ensure_topic(topic, TopicConfig(partitions=partitions))
            start = time.time_ns() // 1_000_000 - (n // batch + 2) * 1000
            events = YsbGenerator(seed).events(start, batch, n + batch)
            while chunk := [e.value for e in itertools.islice(events, 50_000)]:
                log.append_values(topic, chunk)
        runner = Runner("ysb", log=url, home=home, spark=spark, seed=seed, topic=topic, keep_lake=keep_lake)
        handle = runner.start_stream(available_now=True, max_records_per_trigger=batch)
        handle.wait()
        progress = [p for p in handle.query.recentProgress if p["numInputRows"]]
        rows_out = len(runner.store.rows("ysb_counts"))
    shutil.rmtree(home, ignore_errors=True)
    timed = progress[1:]
    rows = sum(p["numInputRows"] for p in timed)
    secs = sum(p["durationMs"]["triggerExecution"] for p in timed) / 1000
    engine = f"riverbed-{'embedded' if backend == 'embedded' else 'kafka'}{'' if keep_lake else '-nolake'}"
    return {"engine": engine, "events": rows,
            "batch": batch, "micro_batches": len(timed), "seconds": round(secs, 2),
            "events_per_s": round(rows / secs), "windows": rows_out}


def median_run(runs: list[dict[str, Any]], key: str = "events_per_s") -> dict[str, Any]:
    """The run with the median `key` (the lower middle of an even count), with every round's value."""
    ranked = sorted(runs, key=lambda r: r[key])
    return {**ranked[(len(ranked) - 1) // 2], f"rounds_{key}": [r[key] for r in runs]}


def machine(spark: Any) -> dict[str, Any]:
    """What the figures were measured on (with the load: other work on the cores skews them)."""
    import platform
    import sys

    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "spark": spark.version, "load_avg_1m": round(os.getloadavg()[0], 2)}


def bench_spark() -> Any:
    from riverbed.spark import get_spark

    return get_spark(app_name="riverbed-bench-ysb", conf={"spark.ui.enabled": "false"})


def run_benchmark(rates: list[float], duration: float, *, find_max: bool = True, step: float = 1.5,
                  max_steps: int = 3, seed: int = 0, note=print, warm_events: int = 600_000,
                  **run_options: Any) -> dict[str, Any]:
    """Every fixed rate, then (optionally) step up to the highest sustainable rate; one JSON-able dict.
    `run_options` go to `run_rate` (backend, trigger_ms, latency_target_ms, partitions)."""
    from riverbed.apps.ysb.warm import warm_up

    spark = bench_spark()
    warm_up(spark, seed=seed, events=warm_events, batch=min(100_000, warm_events))
    note(f"warm-up done ({warm_events:,} events through the ysb stream and the rate-source query)")
    results = []
    for r in rates:
        results.append(run_rate(spark, r, duration, seed=seed, **run_options))
        note(_line(results[-1]))
    best = max((x for x in results if x["sustainable"]), key=lambda x: x["rate"], default=None)
    search = []
    if find_max and best is not None and best["rate"] == max(rates):
        rate = best["rate"]
        for _ in range(max_steps):
            rate = round(rate * step, -2)
            search.append(run_rate(spark, rate, duration, seed=seed, **run_options))
            note(_line(search[-1]))
            if not search[-1]["sustainable"]:
                break
            best = search[-1]
    jpid = jvm_pid(spark)
    return {
        "benchmark": "ysb",
        "query": "filter view -> ad->campaign lookup -> count per (campaign, 10 s window) -> "
                 "serving store (count sum, updated_ms = commit time); lake and dead-letter checks as always",
        "mode": results[0]["mode"] if results else None,
        "fixed_rates": results,
        "search": search,
        "max_sustainable_rate": best["rate"] if best else None,
        "driver_peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "jvm_peak_rss_mb_process": round((_rss_kb(jpid, "VmHWM") or 0) / 1024, 1) if jpid else None,
        "machine": machine(spark),
    }


def _line(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    ok = {True: ", counts correct", False: ", COUNTS WRONG", None: ""}[r.get("correct")]
    return (f"{r.get('engine', 'riverbed')} {r.get('mode', '')} rate {r['rate']:g}/s: "
            f"{r['events_per_s']:,}/s "
            f"processed, latency p50/p90/p99 {lat['p50']}/{lat['p90']}/{lat['p99']} ms over "
            f"{r['windows_measured']} windows, lag at stop {r['lag_s_at_stop']} s, "
            f"{'sustainable' if r['sustainable'] else 'NOT sustainable'}{ok}")


def plot(result: dict[str, Any], path: Path) -> bool:
    """Latency percentiles against throughput as a PNG; False when matplotlib is not installed."""
    plt = pyplot()
    if plt is None:
        return False
    runs = sorted(result["fixed_rates"] + result["search"], key=lambda r: r["events_per_s"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for p in ("p50", "p90", "p99"):
        pts = [(r["events_per_s"], r["latency_ms"][p]) for r in runs if r["latency_ms"][p] is not None]
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=p)
    ax.set_xlabel("throughput (events/s processed)")
    ax.set_ylabel("window latency (ms, last update - window end)")
    ax.set_title("riverbed YSB: latency vs throughput")
    return save(fig, ax, path, legend_size=None)


def plot_ramp(result: dict[str, Any], path: Path) -> bool:
    """Each mode's window latency over the ramp as a PNG; False when matplotlib is not installed."""
    plt = pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for r in result["runs"]:
        pts = r["window_latency"]
        label = f"{r['mode']} (p99 {r['latency_ms']['p99']} ms, {r['events_per_s']:,}/s)"
        ax.plot([t for t, _ in pts], [v for _, v in pts], marker=".", label=label)
    ramp = result["runs"][0]["ramp"] if result["runs"] else {}
    ax.set_xlabel(f"window end (s into the run; load {ramp.get('lo', 0):g} -> {ramp.get('hi', 0):g} -> "
                  f"{ramp.get('lo', 0):g} events/s)")
    ax.set_ylabel("window latency (ms)")
    ax.set_yscale("log")
    ax.set_title("riverbed YSB under a ramp: fixed triggers vs a latency target")
    return save(fig, ax, path)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save(fig: Any, ax: Any, path: Path, legend_size: int | None = 8) -> bool:
    """Grid, legend, layout, write `path` as a PNG and free the figure."""
    plt = pyplot()
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=legend_size)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
