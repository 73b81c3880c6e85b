"""`riverbed train logwatch|buzz`: learn a model in batch over the lake, for the stream to use."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli._common import add_master_option
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="learn an app's model in batch over the lake (logwatch: error baselines; buzz: text clusters)",
        description="logwatch: per component, mean + k*stddev of errors per window over the lake; "
        "the stream raises an alert when a window's errors exceed it.\n"
        "buzz: an MLlib pipeline (clean, tokenise, stop words, TF-IDF, KMeans) over the lake's posts and "
        "event texts, saved as <home>/models/buzz/v<N> with metrics.json and made current; a running "
        "stream picks it up at its next micro-batch.",
    )
    p.add_argument("app", choices=["logwatch", "buzz"], help="which app's model")
    p.add_argument("--k", type=float, default=3.0, help="standard deviations above the mean (default: 3)")
    p.add_argument("--window", type=int, default=60, metavar="SECONDS", help="window length (default: 60)")
    p.add_argument("--clusters", type=int, default=4, metavar="K", help="buzz: KMeans clusters (default: 4)")
    p.add_argument("--seed", type=int, default=1, help="buzz: KMeans seed (default: 1)")
    add_master_option(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    apply_storage_options(args)
    if args.app == "buzz":
        from riverbed.apps.buzz.cli import train_command

        return train_command(args)
    from riverbed.apps.logwatch.baseline import train_baseline
    from riverbed.cli._common import emit, table
    from riverbed.config import resolve_home
    from riverbed.spark import get_spark
    from riverbed.store import open_store

    home = resolve_home(args.home)
    spark = get_spark(args.master)
    rows = train_baseline(spark, home, open_store(home=home), window_seconds=args.window, k=args.k)
    if not rows:
        print(f"not enough data in the lake yet (fewer than 5 windows of {args.window}s): run the stream "
              "first (riverbed run logwatch)", file=sys.stderr)
        return 1
    emit(table(["component", "mean", "stddev", "baseline"],
               [[r["component"], round(r["mean"], 3), round(r["stddev"], 3), round(r["baseline"], 3)]
                for r in rows]))
    return 0
