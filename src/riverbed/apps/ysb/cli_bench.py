"""`riverbed bench ysb`: the Yahoo Streaming Benchmark on riverbed — at fixed input rates and at the
highest sustainable rate: throughput, YSB's window latency p50/p90/p99, lag, driver and JVM memory.
Writes DIR/ysb.json (and DIR/ysb.png when matplotlib is installed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _rates(text: str) -> list[float]:
    from riverbed.cli import kit

    rates = [kit.rate_arg(t) for t in text.split(",") if t.strip()]
    if not rates:
        raise argparse.ArgumentTypeError(f"expected rates like 5000,20000, got {text!r}")
    return rates


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `riverbed bench ysb` (mounted by the CLI from the entry point bench.ysb)."""
    p = subparsers.add_parser(
        "ysb", help="the Yahoo Streaming Benchmark on riverbed",
        description=__doc__.split("\n", 1)[0].split(": ", 1)[1],
        epilog="examples:\n  riverbed bench ysb --rates 5000,20000 --duration 20 --out bench-out\n"
               "  riverbed bench ysb --rates 50000 --duration 60 --latency-target 1s\n"
               "  riverbed bench ysb --prefill 1000000 --batch 100000\n"
               "  riverbed bench ysb --ramp 1000:50000 --duration 120\n"
               "  riverbed bench ysb --quick --out /tmp/ysb",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rates", type=_rates, default=[5000.0, 20000.0], metavar="R,R",
                   help="fixed input rates, events/s (default: 5000,20000)")
    p.add_argument("--duration", type=float, default=20.0, metavar="S", help="seconds per rate (default: 20)")
    p.add_argument("--no-search", action="store_true",
                   help="only the fixed rates: do not step up to the highest sustainable rate")
    p.add_argument("--quick", action="store_true", help="a smoke run: one rate (2000/s) for 12 s, no search")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    p.add_argument("--backend", default="embedded", metavar="B",
                   help="log: embedded, kafka (a Tansu broker started for each run) or a kafka:// URL "
                   "(default: embedded)")
    p.add_argument("--partitions", type=int, default=1, metavar="N",
                   help="input topic partitions (default: 1)")
    p.add_argument("--trigger", default="1s", metavar="DURATION", help="micro-batch trigger (default: 1s)")
    p.add_argument("--latency-target", metavar="DURATION",
                   help="run the stream with a latency target instead of a fixed trigger")
    p.add_argument("--prefill", type=int, metavar="N",
                   help="instead of fixed rates: the ceiling in events/s over N events written first, "
                   "taken in micro-batches of --batch")
    p.add_argument("--no-lake", action="store_true",
                   help="run ysb without its lake (a speed-layer-only pipeline, like YSB itself)")
    p.add_argument("--batch", type=int, default=100_000, metavar="N",
                   help="records per micro-batch for --prefill (default: 100000)")
    p.add_argument("--ramp", metavar="LO:HI",
                   help="instead of fixed rates: a load ramping LO -> HI -> LO events/s over --duration, "
                   "run once per --modes entry")
    p.add_argument("--modes", default="trigger:0,trigger:1s,trigger:5s,target:1s", metavar="M,M",
                   help="for --ramp: trigger:DURATION or target:DURATION entries "
                   "(default: trigger:0,trigger:1s,trigger:5s,target:1s)")
    p.add_argument("--out", default="bench-out", metavar="DIR", help="output directory (default: bench-out)")
    p.set_defaults(func=run)


def _modes(text: str) -> list[dict[str, int | None]]:
    """'trigger:0,target:1s' -> run_ramp keyword sets."""
    from riverbed.errors import InvalidArgument
    from riverbed.timeutil import parse_duration_ms

    modes = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        kind, _, value = item.partition(":")
        if kind not in ("trigger", "target") or not value:
            raise InvalidArgument(f"--modes entry {item!r} is not trigger:DURATION or target:DURATION")
        ms = parse_duration_ms(value)
        modes.append({"trigger_ms": ms, "latency_target_ms": None} if kind == "trigger"
                     else {"trigger_ms": 1000, "latency_target_ms": ms})
    return modes


def _ramp(args: argparse.Namespace, out: Path) -> int:
    from riverbed.apps.ysb.bench import bench_spark, machine
    from riverbed.apps.ysb.ramp import run_ramp
    from riverbed.cli.kit import note
    from riverbed.errors import InvalidArgument

    try:
        lo, hi = (float(x) for x in args.ramp.split(":"))
    except ValueError:
        raise InvalidArgument(f"--ramp {args.ramp!r} is not LO:HI, e.g. 1000:50000") from None
    modes = _modes(args.modes)
    spark = bench_spark()
    run_ramp(spark, lo, lo, 6.0, seed=args.seed)  # warm-up
    runs = []
    for m in modes:
        runs.append(run_ramp(spark, lo, hi, args.duration, seed=args.seed, **m))
        r = runs[-1]
        note(f"{r['mode']}: {r['events_per_s']:,}/s processed, latency p50/p90/p99 "
             f"{r['latency_ms']['p50']}/{r['latency_ms']['p90']}/{r['latency_ms']['p99']} ms, "
             f"{r['micro_batches']} micro-batches, backlog max {r['backlog_max']:,}")
    result = {"benchmark": "ysb-ramp", "runs": runs, "machine": machine(spark)}
    (out / "ysb-ramp.json").write_text(json.dumps(result, indent=2) + "\n")
    from riverbed.apps.ysb.bench import plot_ramp

    if plot_ramp(result, out / "ysb-ramp.png"):
        note(f"wrote {out / 'ysb-ramp.png'}")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


def run(args: argparse.Namespace) -> int:
    from riverbed.apps.ysb.bench import bench_spark, machine, plot, run_benchmark, run_prefill
    from riverbed.apps.ysb.warm import STEADY, warm_up
    from riverbed.cli.kit import note
    from riverbed.timeutil import parse_duration_ms

    rates, duration, search = args.rates, args.duration, not args.no_search
    if args.quick:
        rates, duration, search = [2000.0], 12.0, False
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.ramp:
        return _ramp(args, out)
    if args.prefill:
        spark = bench_spark()
        warm = warm_up(spark, seed=args.seed, batch=args.batch, note=note, **STEADY)
        result = {**run_prefill(spark, args.prefill, args.batch, seed=args.seed, backend=args.backend,
                                partitions=args.partitions, keep_lake=not args.no_lake),
                  "warm_up": warm, "machine": machine(spark)}
        (out / "ysb-prefill.json").write_text(json.dumps(result, indent=2) + "\n")
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    result = run_benchmark(
        rates, duration, find_max=search, seed=args.seed, note=note, backend=args.backend,
        warm_events=100_000 if args.quick else 600_000,
        partitions=args.partitions, trigger_ms=parse_duration_ms(args.trigger),
        latency_target_ms=parse_duration_ms(args.latency_target) if args.latency_target else None)
    (out / "ysb.json").write_text(json.dumps(result, indent=2) + "\n")
    note(f"wrote {out / 'ysb.json'}; highest sustainable rate {result['max_sustainable_rate']}/s")
    if plot(result, out / "ysb.png"):
        note(f"wrote {out / 'ysb.png'}")
    else:
        note("no plot: matplotlib is not installed (pip install matplotlib)")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0
