"""Soak: logwatch and bitcoin streaming together for a long time at a fixed input rate, in one driver.

    .venv/bin/python benchmarks/soak.py [--duration 1800] [--rate 20000] [--mix logwatch=0.75,bitcoin=0.25]
        [--sample-every 10] [--log kafka://HOST:PORT] [--home DIR [--keep]] [--out F.json] [--plot F.png]

One SparkSession, both pipelines started by `Runner(...).start_stream()` with their default trigger,
fed by paced generator threads (an `Ingestor` each): logwatch by riverbed's synthetic server logs
(topic "logs"), bitcoin by the recorded Bitstamp trades of tests/data/bitcoin cycled forever with
wall-clock times (topic "prices"). Every --sample-every s one JSON line goes to stderr: events
written/processed, throughput, lag (events and seconds of input), the micro-batches' append->store
latency p50/p99, driver/JVM/Python-worker RSS (the workers' sum counts pages shared by the forked
workers more than once), disk use of the home (log + lake), Python's gc object count.
At the end (or Ctrl-C) one JSON object goes to stdout with the samples and a summary: is the lag
bounded, is memory flat. This is a benchmark, not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riverbed.apps.ysb.bench import _rss_kb, jvm_pid
from riverbed.connectors import Ingestor, SyntheticLogs
from riverbed.connectors.base import Item, Source
from riverbed.log.api import Record

REPO = Path(__file__).resolve().parents[1]
TICKS = REPO / "tests/data/bitcoin/bitstamp_btcusd_trades_2011-09_to_2012-05.csv"
TOPICS = {"logwatch": "logs", "bitcoin": "prices"}
MIN_FREE_GB = 5.0  # refuse to start below this
STOP_FREE_GB = 2.0  # stop early (reason "disk") below this
BYTES_PER_EVENT = 450  # home growth per event, embedded log + lake (measured: ~400)
BYTES_PER_EVENT_KAFKA = 60  # the lake alone (the log is on the broker's disk)


class RecordedTicks(Source):
    """The recorded trades (unix_s,price,amount) cycled forever as Exchange `match` messages stamped
    with the wall clock (the recording's price path, shifted to now); pacing is the Ingestor's."""

    name = "recorded-ticks"

    def __init__(self, path: Path = TICKS, product: str = "BTC-USD") -> None:
        super().__init__()
        rows = [ln.split(",") for ln in path.read_text().split() if ln.count(",") == 2]
        if not rows:
            raise SystemExit(f"soak: no trades (unix_s,price,amount) in {path}")
        self.rows = [(p.rstrip("0").rstrip("."), s.rstrip("0").rstrip(".") or "0") for _, p, s in rows]
        self.product, self.key = product, product.encode()

    def read(self) -> Iterator[Item]:
        from riverbed.timeutil import iso

        n, last_ms, stamp = 0, -1, ""
        while not self.stopped:
            for price, size in self.rows:
                now = time.time_ns() // 1_000_000
                if now != last_ms:
                    last_ms, stamp = now, iso(now)
                n += 1
                value = (f'{{"type":"match","product_id":"{self.product}","time":"{stamp}","price":"{price}",'
                         f'"size":"{size}","trade_id":{n},"source":"bitstamp"}}')
                yield Record(value.encode(), key=self.key, timestamp=now)
                if self.stopped:
                    return


def parse_mix(text: str) -> dict[str, float]:
    """argparse type: "logwatch=0.75,bitcoin=0.25" -> shares of the total rate (summing to 1)."""
    try:
        mix = {k.strip(): float(v) for k, v in (p.split("=") for p in text.split(",") if p.strip())}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected logwatch=0.75,bitcoin=0.25, got {text!r}") from None
    if not mix or set(mix) - set(TOPICS) or any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError(f"mix {text!r}: shares >= 0 of {'/'.join(TOPICS)}, not all 0")
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items() if v > 0}


def disk_mb(path: Path) -> float:
    """Disk space (allocated blocks) used under `path`, MB."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):  # removed meanwhile (a checkpoint rewrite)
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
    return round(total / 2**20, 1)


def descendants_rss_mb(pid: int | None) -> float | None:
    """Total RSS of `pid`'s descendant processes (the JVM's Python workers), MB."""
    if pid is None:
        return None
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    todo, kb = list(children.get(pid, [])), 0
    while todo:
        p = todo.pop()
        kb += _rss_kb(p) or 0
        todo += children.get(p, [])
    return round(kb / 1024, 1)


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


class Feeder:
    """One pipeline's paced generator thread (Ingestor + source) and its running query."""

    def __init__(self, name: str, log: Any, topic: str, rate: float, handle: Any) -> None:
        source = SyntheticLogs(seed=1) if name == "logwatch" else RecordedTicks()
        self.name, self.rate, self.handle, self.error = name, rate, handle, None
        self.ingestor = Ingestor(log, topic, batch_size=max(100, int(rate / 20)), linger_ms=50, rate=rate)
        self.thread = threading.Thread(target=self._run, args=(source,), name=f"soak-{name}", daemon=True)
        self.seen = 0  # micro-batches already looked at

    def _run(self, source: Source) -> None:
        try:
            self.ingestor.run(source)
        except Exception as e:  # reported in the result; the run stops
            self.error = f"{type(e).__name__}: {e}"

    def sample(self, dt: float, prev: dict[str, Any] | None, elapsed: float) -> dict[str, Any]:
        hist = list(self.handle.history)
        new, self.seen = hist[self.seen:], len(hist)
        written, processed = self.ingestor.stats.written, sum(s.records for s in hist)
        lat = [s for s in hist[-20:] if s.latency_p99_ms is not None]
        p99s = [s.latency_p99_ms for s in new if s.latency_p99_ms is not None]
        achieved = written / elapsed if elapsed > 0 and written else self.rate
        d_w = written - (prev["written"] if prev else 0)
        d_p = processed - (prev["processed"] if prev else 0)
        return {
            "written": written, "processed": processed, "batches": len(hist),
            "in_rate": round(d_w / dt) if dt > 0 else None,
            "throughput": round(d_p / dt) if dt > 0 else None,
            "lag_events": written - processed, "lag_s": round((written - processed) / achieved, 2),
            "latency_p50_ms": lat[-1].latency_p50_ms if lat else None,
            "latency_p99_ms": lat[-1].latency_p99_ms if lat else None,
            "latency_p99_max_ms": max(p99s) if p99s else None,
        }


def quiet_stop(handle: Any, grace: float = 30.0) -> None:
    """Stop a query between triggers when one comes within `grace` s: stopping while Spark still
    writes a batch's commit interrupts it (harmless, but a page of warnings)."""
    deadline = time.monotonic() + grace
    with contextlib.suppress(Exception):
        while handle.query.isActive and handle.query.status.get("isTriggerActive") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
    handle.stop(grace=max(0.0, deadline - time.monotonic()))


def run(args: argparse.Namespace, note=lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    """The soak run itself; returns the result (also when stopped early)."""
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.runner import Runner
    from riverbed.spark import get_spark

    home, kafka = Path(args.home), args.log is not None
    url = args.log or f"embedded://{home / 'log'}"
    suffix = f"-soak-{int(time.time())}" if kafka else ""  # a fresh topic pair on a shared broker
    rates = {n: args.rate * share for n, share in args.mix.items()}
    load0 = os.getloadavg()
    spark = get_spark(app_name="riverbed-soak", conf={"spark.ui.enabled": "false"})
    stop, reason = threading.Event(), ["duration"]

    def on_sigint(signum, frame):  # first Ctrl-C: stop cleanly and report; a second one aborts
        reason[0] = "interrupted"
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_sigint)  # replaces PySpark's (which cancels every running job)
    log = open_log(url)
    feeders: list[Feeder] = []
    samples: list[dict[str, Any]] = []
    errors: list[str] = []
    jpid = jvm_pid(spark)
    try:
        for name, rate in rates.items():
            topic = TOPICS[name] + suffix
            log.ensure_topic(topic, TopicConfig(partitions=1))
            handle = Runner(name, log=url, home=home, spark=spark, topic=topic).start_stream()
            feeders.append(Feeder(name, log, topic, rate, handle))
        note(f"soak: {', '.join(f'{f.name} {f.rate:g}/s' for f in feeders)} for {args.duration:g} s on {url}")
        t0 = last = time.monotonic()
        for f in feeders:
            f.thread.start()
        prev: dict[str, dict[str, Any]] = {}
        while True:
            done = stop.wait(max(0.0, min(t0 + args.duration, last + args.sample_every) - time.monotonic()))
            now = time.monotonic()
            s: dict[str, Any] = {"t_s": round(now - t0, 1), "pipelines": {}}
            for f in feeders:
                prev[f.name] = s["pipelines"][f.name] = f.sample(now - last, prev.get(f.name), now - t0)
            free_gb = shutil.disk_usage(home).free / 2**30
            s.update(driver_rss_mb=mb(_rss_kb(os.getpid())), jvm_rss_mb=mb(_rss_kb(jpid)) if jpid else None,
                     jvm_old_gen_after_gc_mb=old_gen_after_gc_mb(spark),
                     workers_rss_mb=descendants_rss_mb(jpid), gc_objects=len(gc.get_objects()),
                     disk_mb={"log": None if kafka else disk_mb(home / "log"),
                              "lake": disk_mb(home / "lake"), "home": disk_mb(home)},
                     disk_free_gb=round(free_gb, 1), load_1m=round(os.getloadavg()[0], 2))
            samples.append(s)
            note(json.dumps(s))
            last = now
            for f in feeders:
                if f.error or not f.thread.is_alive():
                    errors.append(f"{f.name} generator: {f.error or 'ended'}")
                if not f.handle.query.isActive:
                    errors.append(f"{f.name} query stopped: {f.handle.query.exception()}")
            if errors:
                reason[0] = "error"
            elif free_gb < STOP_FREE_GB:
                reason[0] = f"disk: {free_gb:.1f} GB free"
            if done or errors or free_gb < STOP_FREE_GB or now - t0 >= args.duration:
                break
    except KeyboardInterrupt:  # a Ctrl-C before the handler was in place, or a second one
        reason[0] = "interrupted"
    except Exception as e:  # report what was measured up to here
        errors.append(f"{type(e).__name__}: {e}")
        reason[0] = "error"
    finally:  # generators first, then the queries, each at a batch boundary if it comes in 30 s
        for f in feeders:
            f.ingestor.stop()
        for f in feeders:
            f.thread.join(10)
            quiet_stop(f.handle)
        log.close()
    return {
        "benchmark": "soak",
        "parameters": {"duration_s": args.duration, "rate": args.rate, "mix": args.mix, "rates": rates,
                       "sample_every_s": args.sample_every, "log": url, "home": str(home),
                       "topics": {f.name: f.ingestor.topic for f in feeders},
                       "trigger": "the default (1 s)", "ticks": str(TICKS)},
        "stopped_by": reason[0], "errors": errors,
        "machine": {"cpus": os.cpu_count(), "load_avg_start": [round(x, 2) for x in load0],
                    "load_avg_end": [round(x, 2) for x in os.getloadavg()],
                    "python": sys.version.split()[0], "spark": spark.version,
                    "platform": platform.platform()},
        "summary": summarize(samples, feeders),
        "samples": samples,
    }


def percentile(sorted_values: list[int], q: float) -> int | None:
    """The nearest-rank `q` quantile of ascending values; None for none."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def thirds(samples: list[dict[str, Any]], end: float) -> list[list[dict[str, Any]]]:
    """The samples in the first, middle and last third of the run (by elapsed time)."""
    parts: list[list[dict[str, Any]]] = [[], [], []]
    for s in samples:
        parts[min(2, int(3 * s["t_s"] / end)) if end > 0 else 2].append(s)
    return parts


def memory_growth(samples: list[dict[str, Any]], key: str, end: float) -> dict[str, Any]:
    """RSS growth: mean of the last third minus the middle third (MB, %), least-squares slope over
    the second half (MB/min); flat when the growth is under 5 % or under 50 MB."""
    _, mid, tail = thirds([s for s in samples if s[key] is not None], end)
    half = [(s["t_s"] / 60, s[key]) for s in samples if s[key] is not None and s["t_s"] >= end / 2]
    if not mid or not tail:
        return {"growth_mb": None, "growth_pct": None, "slope_mb_per_min": None, "flat": None}
    m_mid = sum(s[key] for s in mid) / len(mid)
    growth = sum(s[key] for s in tail) / len(tail) - m_mid
    slope = None
    if len(half) >= 2:
        mx, my = sum(x for x, _ in half) / len(half), sum(y for _, y in half) / len(half)
        sxx = sum((x - mx) ** 2 for x, _ in half)
        slope = round(sum((x - mx) * (y - my) for x, y in half) / sxx, 2) if sxx else None
    pct = 100 * growth / m_mid if m_mid else None
    return {"mean_middle_mb": round(m_mid, 1), "growth_mb": round(growth, 1),
            "growth_pct": None if pct is None else round(pct, 2), "slope_mb_per_min": slope,
            "peak_mb": max(s[key] for s in samples if s[key] is not None),
            "flat": growth < 50 or (pct is not None and pct < 5)}


def old_gen_after_gc_mb(spark: Any) -> float | None:
    """The JVM's old generation as the last collection left it: the live set, which a leak grows
    (RSS alone also grows while the heap expands toward -Xmx, leak or not)."""
    try:
        for pool in spark._jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans():
            if "Old Gen" in str(pool.getName()):
                usage = pool.getCollectionUsage()
                return round(usage.getUsed() / 2**20, 1) if usage is not None else None
    except Exception:  # no local JVM (Spark Connect) or no such pool: not measured
        return None
    return None


def summarize(samples: list[dict[str, Any]], feeders: list[Feeder]) -> dict[str, Any]:
    """Throughput, lag, latency and memory growth over the run, with the two verdicts."""
    out: dict[str, Any] = {"pipelines": {}}
    if not samples:
        return out
    end = samples[-1]["t_s"]
    _, mid, tail = thirds(samples, end)
    bounded = []
    for f in feeders:
        per = [s["pipelines"][f.name] for s in samples]
        lag_mid = max((s["pipelines"][f.name]["lag_s"] for s in mid), default=None)
        lag_tail = max((s["pipelines"][f.name]["lag_s"] for s in tail), default=None)
        final = per[-1]["lag_s"]
        ok = None if lag_mid is None or lag_tail is None else lag_tail <= lag_mid + 2.0 and final < 10.0
        bounded.append(ok)
        p99s = sorted(s.latency_p99_ms for s in f.handle.history if s.latency_p99_ms is not None)
        out["pipelines"][f.name] = {
            "input_rate": f.rate, "written_per_s": round(per[-1]["written"] / end) if end else None,
            "mean_throughput": round(per[-1]["processed"] / end) if end else None,
            "max_lag_s": max(p["lag_s"] for p in per), "max_lag_events": max(p["lag_events"] for p in per),
            "lag_s_max_middle_third": lag_mid, "lag_s_max_last_third": lag_tail, "final_lag_s": final,
            "bounded_lag": ok, "micro_batches": per[-1]["batches"],
            "latency_p99_of_batch_p99s_ms": percentile(p99s, 0.99),
            "latency_p50_of_batch_p50s_ms": percentile(
                sorted(s.latency_p50_ms for s in f.handle.history if s.latency_p50_ms is not None), 0.5),
        }
    keys = ["jvm_rss_mb", "driver_rss_mb", "workers_rss_mb"]
    olds = [s.get("jvm_old_gen_after_gc_mb") for s in samples]
    if all(v is not None for v in olds) and any(olds):  # all zero: no old-gen collection ran, unknown
        keys.append("jvm_old_gen_after_gc_mb")
    mem = {k: memory_growth(samples, k, end) for k in keys}
    # the JVM's verdict is its live set when measured: RSS grows while the heap expands to -Xmx
    jvm = "jvm_old_gen_after_gc_mb" if "jvm_old_gen_after_gc_mb" in mem else "jvm_rss_mb"
    judged = ["driver_rss_mb", jvm]
    verdicts = [mem[k]["flat"] for k in judged]
    last = samples[-1]
    out.update(
        memory=mem,
        disk_mb_end=last["disk_mb"],
        disk_bytes_per_event=round(last["disk_mb"]["home"] * 2**20 / max(1, sum(
            p["written"] for p in last["pipelines"].values())), 1),
        gc_objects_start_end=[samples[0]["gc_objects"], last["gc_objects"]],
        bounded_lag=None if None in bounded else all(bounded),
        flat_memory=None if None in verdicts else all(verdicts),
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=1800.0, help="seconds of input (default 1800)")
    p.add_argument("--rate", type=float, default=20000.0, help="total events/s (default 20000)")
    p.add_argument("--mix", type=parse_mix, default=parse_mix("logwatch=0.75,bitcoin=0.25"),
                   help="share of the rate per pipeline (default logwatch=0.75,bitcoin=0.25)")
    p.add_argument("--sample-every", type=float, default=10.0, metavar="S", help="seconds (default 10)")
    p.add_argument("--log", help="kafka://HOST:PORT (default: an embedded log in the home)")
    p.add_argument("--home", help="riverbed home (default: a temp dir, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the temp home")
    p.add_argument("--out", type=Path, help="also write the JSON result here")
    p.add_argument("--plot", type=Path, help="draw throughput, lag, p99 latency and memory over time (PNG)")
    args = p.parse_args(argv)
    if args.duration <= 0 or args.rate <= 0 or args.sample_every <= 0:
        p.error("--duration, --rate and --sample-every must be > 0")
    if args.log and not args.log.startswith("kafka://"):
        p.error(f"--log takes a kafka://HOST:PORT URL (the default is an embedded log), got {args.log!r}")
    temp = args.home is None
    if temp:
        args.home = tempfile.mkdtemp(prefix="rb-soak-")
    elif Path(args.home).exists() and any(Path(args.home).iterdir()):
        p.error(f"--home {args.home} is not empty: a soak starts from an empty home (old data would count)")
    Path(args.home).mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(args.home).free / 2**30
    per_event = BYTES_PER_EVENT_KAFKA if args.log else BYTES_PER_EVENT
    need_gb = max(MIN_FREE_GB, args.rate * args.duration * per_event / 2**30 + STOP_FREE_GB)
    if free_gb < need_gb:
        if temp:
            shutil.rmtree(args.home, ignore_errors=True)
        print(f"soak: only {free_gb:.1f} GB free under {args.home}, need {need_gb:.1f} GB (at least "
              f"{MIN_FREE_GB:g} GB; the home grows by ~{per_event} bytes per event, {args.rate:g}/s for "
              f"{args.duration:g} s): free some space or give --home on a bigger disk", file=sys.stderr)
        return 2
    try:
        result = run(args)
    finally:
        if temp and not args.keep:
            shutil.rmtree(args.home, ignore_errors=True)
        else:
            print(f"soak: the home is kept in {args.home}", file=sys.stderr)
    if args.plot:
        from _soak_plot import plot

        plot(result, args.plot)
        result["plot"] = str(args.plot)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    s = result["summary"]
    print(f"soak: stopped by {result['stopped_by']}; bounded_lag={s.get('bounded_lag')} "
          f"flat_memory={s.get('flat_memory')}", file=sys.stderr)
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
