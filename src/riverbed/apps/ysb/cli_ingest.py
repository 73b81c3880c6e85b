"""Ingest kind `ysb`: the Yahoo Streaming Benchmark's ad events at a fixed rate (its generator's
real-time mode), optionally with its skew and late events."""

from __future__ import annotations

import argparse

from riverbed.cli import kit


def register_kinds(kinds: argparse._SubParsersAction) -> None:
    """Add `riverbed ingest ysb TOPIC --rate N/s --duration S`."""
    y = kinds.add_parser(
        "ysb", help="Yahoo Streaming Benchmark ad events (100 campaigns x 10 ads) at a fixed rate",
        description="Emit YSB ad events, event i at start + i/rate with that time as event_time; "
        "every JSON value is a string. The same --seed gives the same campaigns and ads as "
        "the ysb pipeline joins with (`riverbed run ysb` uses seed 0).",
        epilog="example:\n  riverbed ingest ysb ad-events --rate 5000/s --duration 60 --skew",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    y.add_argument("--rate", type=kit.rate_arg, default=1000.0, help="events per second (default: 1000/s)")
    y.add_argument("--seed", type=int, default=0, help="random seed: campaigns, ads and events (default: 0)")
    y.add_argument("--skew", action="store_true",
                   help="as YSB's --with-skew: +-50 ms jitter, 1 in --late-every events late by up to 60 s")
    y.add_argument("--late-every", type=kit.positive_int, default=100_000, metavar="N",
                   help="with --skew, one event in N is late (default: 100000, as YSB)")
    y.add_argument("--events", type=kit.positive_int, metavar="N", help="stop after N events")
    kit.add_common_options(y, rate=False)
    y.set_defaults(func=run_ysb)


def run_ysb(args: argparse.Namespace) -> int:
    from riverbed.apps.ysb.source import YsbSource

    src = YsbSource(args.rate, seed=args.seed, skew=args.skew, late_every=args.late_every, n=args.events)
    skew = f", skew with 1 in {args.late_every} late" if args.skew else ""
    return kit.run_source(args, src, f"YSB ad events at {args.rate:g}/s (seed {args.seed}{skew})")
