"""`riverbed train buzz`: fit the buzz model over the lake, save the next version, make it current."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli import kit


def register_train(subparsers: argparse._SubParsersAction) -> None:
    """Add `riverbed train buzz` (mounted by the CLI from the entry point train.buzz)."""
    p = subparsers.add_parser(
        "buzz",
        help="text clusters: an MLlib pipeline over the lake's posts and event texts",
        description="An MLlib pipeline (clean, tokenise, stop words, TF-IDF, KMeans) over the lake's posts "
        "and event texts, saved as <home>/models/buzz/v<N> with metrics.json and made current; a "
        "running stream picks it up at its next micro-batch.",
    )
    p.add_argument("--clusters", type=int, default=4, metavar="K", help="KMeans clusters (default: 4)")
    p.add_argument("--seed", type=int, default=1, help="KMeans seed (default: 1)")
    kit.add_master_option(p)
    kit.add_storage_options(p)
    p.set_defaults(func=train_command)


def train_command(args: argparse.Namespace) -> int:
    """Train over `<home>/lake/buzz` and print the new version's metrics and top terms per cluster."""
    from riverbed.apps.buzz.model import train
    from riverbed.config import resolve_home
    from riverbed.spark import get_spark

    kit.apply_storage_options(args)
    home = resolve_home(args.home)
    spark = get_spark(args.master, app_name="riverbed-train-buzz")
    info = train(spark, home, k=args.clusters, seed=args.seed)
    print(
        f"buzz model {info['version']}: {info['documents']} documents, k={info['k']}, "
        f"vocabulary {info['vocabulary_size']}, cost {info['cost']:.3f}, "
        f"silhouette {info['silhouette']:.3f}, "
        f"{info['seconds']:.1f}s; now current ({home / 'models' / 'buzz' / info['version']})",
        file=sys.stderr,
    )
    kit.emit(kit.table(["cluster", "documents", "top terms"],
               [[int(c), info["cluster_sizes"].get(int(c), 0), " ".join(t)]
                for c, t in sorted(info["top_terms"].items(), key=lambda x: int(x[0]))]))
    return 0
