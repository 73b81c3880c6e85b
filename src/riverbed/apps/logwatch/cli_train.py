"""`riverbed train logwatch`: error baselines per component, learned in batch over the lake."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli import kit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `riverbed train logwatch` (mounted by the CLI from the entry point train.logwatch)."""
    p = subparsers.add_parser(
        "logwatch",
        help="error baselines: per component, mean + k*stddev of errors per window over the lake",
        description="Per component, mean + k*stddev of errors per window over the lake; the stream "
        "raises an alert when a window's errors exceed it.",
    )
    p.add_argument("--k", type=float, default=3.0, help="standard deviations above the mean (default: 3)")
    p.add_argument("--window", type=int, default=60, metavar="SECONDS", help="window length (default: 60)")
    kit.add_master_option(p)
    kit.add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.apps.logwatch.baseline import train_baseline
    from riverbed.config import resolve_home
    from riverbed.spark import get_spark
    from riverbed.store import open_store

    kit.apply_storage_options(args)
    home = resolve_home(args.home)
    spark = get_spark(args.master)
    rows = train_baseline(spark, home, open_store(home=home), window_seconds=args.window, k=args.k)
    if not rows:
        print(f"not enough data in the lake yet (fewer than 5 windows of {args.window}s): run the stream "
              "first (riverbed run logwatch)", file=sys.stderr)
        return 1
    kit.emit(kit.table(["component", "mean", "stddev", "baseline"],
                       [[r["component"], round(r["mean"], 3), round(r["stddev"], 3), round(r["baseline"], 3)]
                        for r in rows]))
    return 0
