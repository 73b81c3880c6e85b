"""`riverbed bench ysb`: the Yahoo Streaming Benchmark on riverbed — at fixed input rates and at the
highest sustainable rate: throughput, YSB's window latency p50/p90/p99, lag, driver and JVM memory.
Writes DIR/ysb.json (and DIR/ysb.png when matplotlib is installed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _rates(text: str) -> list[float]:
    from riverbed.cli.ingest import rate_arg

    rates = [rate_arg(t) for t in text.split(",") if t.strip()]
    if not rates:
        raise argparse.ArgumentTypeError(f"expected rates like 5000,20000, got {text!r}")
    return rates


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `bench` with its benchmark choice."""
    p = subparsers.add_parser(
        "bench", help="run a benchmark (ysb: the Yahoo Streaming Benchmark)",
        description=__doc__.split("\n", 1)[0].split(": ", 1)[1],
        epilog="examples:\n  riverbed bench ysb --rates 5000,20000 --duration 20 --out bench-out\n"
               "  riverbed bench ysb --quick --out /tmp/ysb",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("benchmark", choices=["ysb"], help="which benchmark")
    p.add_argument("--rates", type=_rates, default=[5000.0, 20000.0], metavar="R,R",
                   help="fixed input rates, events/s (default: 5000,20000)")
    p.add_argument("--duration", type=float, default=20.0, metavar="S", help="seconds per rate (default: 20)")
    p.add_argument("--no-search", action="store_true",
                   help="only the fixed rates: do not step up to the highest sustainable rate")
    p.add_argument("--quick", action="store_true", help="a smoke run: one rate (2000/s) for 12 s, no search")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    p.add_argument("--out", default="bench-out", metavar="DIR", help="output directory (default: bench-out)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.apps.ysb.bench import plot, run_benchmark
    from riverbed.cli._common import note

    rates, duration, search = args.rates, args.duration, not args.no_search
    if args.quick:
        rates, duration, search = [2000.0], 12.0, False
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = run_benchmark(rates, duration, find_max=search, seed=args.seed, note=note)
    (out / "ysb.json").write_text(json.dumps(result, indent=2) + "\n")
    note(f"wrote {out / 'ysb.json'}; highest sustainable rate {result['max_sustainable_rate']}/s")
    if plot(result, out / "ysb.png"):
        note(f"wrote {out / 'ysb.png'}")
    else:
        note("no plot: matplotlib is not installed (pip install matplotlib)")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0
