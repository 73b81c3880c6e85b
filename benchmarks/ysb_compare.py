"""YSB side by side, in one run, on one machine, on the same generated events:

    make bench-peers
    .venv/bin/python benchmarks/ysb_compare.py --rates 5000,20000,50000 --duration 60 \
        --prefill 1000000 --out bench-out/compare

Engines: riverbed over the embedded log (with its lake, and -nolake: the speed layer only, YSB's
own scope); riverbed over the Kafka backend (a Tansu broker);
the same Spark query fed by Spark's built-in rate source (the engine's ceiling); Bytewax and
Quix Streams reading the Tansu broker (benchmarks/peers, their own venv). Two measures:
- ceiling: N events available at once, events/s taken (Spark engines: rows / micro-batch time,
  batches of --batch; peers: N / first-to-last processed); --rounds runs per engine, interleaved,
  the median kept, after an untimed warm-up of Spark's JVM; riverbed-embedded's ratio to each
  engine both of the medians and round by round (a round's runs share the machine's state);
- fixed rates: events/s processed and YSB's window latency p50/p99, sustainable or not.
Prints one JSON object and writes DIR/compare.json, DIR/compare.md (the table, with ratios) and
DIR/compare.png (latency against throughput per engine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

PEERS = ("bytewax", "quix")


def _note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(rates: list[float], duration: float, prefill: int, batch: int, peers: list[str],
        seed: int = 0, rounds: int = 3) -> dict[str, Any]:
    from harness import run_peer, run_peer_prefill  # benchmarks/peers/harness.py

    from riverbed.apps.ysb.bench import (
        _line,
        bench_spark,
        machine,
        median_run,
        run_prefill,
        run_rate,
    )
    from riverbed.apps.ysb.ceiling import run_rate_source, run_rate_source_prefill
    from riverbed.apps.ysb.warm import STEADY, warm_up

    spark = bench_spark()
    # the JVM's JIT: every Spark engine is measured warm, at its steady state
    warm = warm_up(spark, seed=seed, note=_note, **STEADY) if prefill else warm_up(spark, seed=seed)
    ceilings: list[dict[str, Any]] = []
    if prefill:
        runs: dict[str, list[dict[str, Any]]] = {}
        spark_engines = [
            lambda: run_prefill(spark, prefill, batch, seed=seed),
            # YSB's own scope, as the rate-source query: the speed layer, no master dataset
            lambda: run_prefill(spark, prefill, batch, seed=seed, keep_lake=False),
            lambda: run_prefill(spark, prefill, batch, seed=seed, backend="kafka"),
            lambda: run_rate_source_prefill(spark, prefill, batch, seed=seed),
        ]
        for i in range(rounds):  # interleaved, so that drift on the machine hits every engine alike,
            # and each round starts with the next engine, so that none always runs first
            k = i % len(spark_engines)
            got = [run() for run in spark_engines[k:] + spark_engines[:k]]
            got += [{"engine": engine, **run_peer_prefill(engine, prefill, seed=seed)} for engine in peers]
            for c in got:
                runs.setdefault(c["engine"], []).append(c)
                _note(f"round {i + 1}/{rounds} ceiling {c['engine']}: {c['events_per_s']:,} events/s")
        ceilings = [median_run(r) for r in runs.values()]
        for c in ceilings:
            _note(f"ceiling {c['engine']}: median {c['events_per_s']:,} events/s "
                  f"of {c['rounds_events_per_s']}")
    fixed: list[dict[str, Any]] = []
    for rate in rates:
        fixed.append(run_rate(spark, rate, duration, seed=seed))
        fixed.append(run_rate(spark, rate, duration, seed=seed, backend="kafka"))
        fixed.append(run_rate_source(spark, rate, duration, seed=seed))
        for engine in peers:
            fixed.append(run_peer(engine, rate, duration, seed=seed))
        for r in fixed[-(3 + len(peers)):]:
            _note(_line(r))
    return {"benchmark": "ysb-compare", "ceilings": ceilings, "ceiling_ratios": ratios(ceilings),
            "fixed_rates": fixed, "warm_up": warm, "machine": machine(spark)}


def ratios(ceilings: list[dict[str, Any]], ours: str = "riverbed-embedded") -> dict[str, dict[str, Any]]:
    """`ours`'s ceiling over each engine's: of the medians, and round by round with the median of
    those. The rounds are interleaved, so a round's two runs met the same state of the machine; the
    per-round ratios are not moved by drift between rounds, which the medians of each engine are."""
    by = {c["engine"]: c for c in ceilings}
    if ours not in by:
        return {}
    mine = by[ours]["rounds_events_per_s"]
    out: dict[str, dict[str, Any]] = {}
    for engine, c in by.items():
        per_round = [round(a / b, 3) for a, b in zip(mine, c["rounds_events_per_s"], strict=False) if b]
        out[engine] = {"of_medians": round(by[ours]["events_per_s"] / c["events_per_s"], 3),
                       "per_round": per_round,
                       "per_round_median": round(statistics.median(per_round), 3) if per_round else None}
    return out


def table(result: dict[str, Any]) -> str:
    """The markdown table: events/s and p99 per engine, riverbed-embedded's ratio to each."""
    lines = []
    ceil = {c["engine"]: c["events_per_s"] for c in result["ceilings"]}
    if ceil:
        ours, speed = ceil.get("riverbed-embedded"), ceil.get("riverbed-embedded-nolake")
        paired = ratios(result["ceilings"])
        lines += ["| engine | ceiling events/s | riverbed-embedded / engine | same, round by round "
                  "(median) | riverbed-embedded-nolake / engine |", "|---|---:|---:|---|---:|"]
        for engine, eps in ceil.items():
            ratio = f"{ours / eps:.2f}" if ours else ""
            p = paired.get(engine)
            rounds = (f"{' / '.join(f'{x:.2f}' for x in p['per_round'])} ({p['per_round_median']:.2f})"
                      if p and p["per_round"] else "")
            ratio_speed = f"{speed / eps:.2f}" if speed else ""
            lines.append(f"| {engine} | {eps:,} | {ratio} | {rounds} | {ratio_speed} |")
        lines.append("")
    rates = sorted({r["rate"] for r in result["fixed_rates"]})
    lines += ["| input rate | engine | events/s | p50 / p99 latency (ms) | sustainable | counts |",
              "|---:|---|---:|---:|---|---|"]
    for rate in rates:
        for r in (x for x in result["fixed_rates"] if x["rate"] == rate):
            lat = r["latency_ms"]
            ok = {True: "correct", False: "WRONG", None: "-"}[r.get("correct")]
            lines.append(f"| {rate:,.0f} | {r['engine']} | {r['events_per_s']:,} | {lat['p50']} / "
                         f"{lat['p99']} | {'yes' if r['sustainable'] else 'no'} | {ok} |")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> bool:
    from riverbed.apps.ysb.bench import pyplot, save

    plt = pyplot()
    if plt is None:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for engine in dict.fromkeys(r["engine"] for r in result["fixed_rates"]):
        pts = sorted((r["events_per_s"], r["latency_ms"]["p99"]) for r in result["fixed_rates"]
                     if r["engine"] == engine and r["latency_ms"]["p99"] is not None)
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=engine)
    ax.set_xlabel("throughput (events/s processed)")
    ax.set_ylabel("YSB window latency p99 (ms)")
    ax.set_yscale("log")
    ax.set_title("YSB: latency vs throughput, same machine, same events")
    return save(fig, ax, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", default="5000,20000,50000", help="fixed input rates, events/s")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per fixed-rate run")
    p.add_argument("--prefill", type=int, default=1_000_000, help="events for the ceilings (0: skip)")
    p.add_argument("--batch", type=int, default=100_000, help="records per micro-batch for the ceilings")
    p.add_argument("--peers", default=",".join(PEERS), help="peer engines (empty: none)")
    p.add_argument("--rounds", type=int, default=3, help="ceiling runs per engine, interleaved (median kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="bench-out/compare", help="output directory")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    result = run([float(x) for x in a.rates.split(",") if x], a.duration, a.prefill, a.batch,
                 [x for x in a.peers.split(",") if x], a.seed, a.rounds)
    (out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "compare.md").write_text(table(result))
    plot(result, out / "compare.png")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
