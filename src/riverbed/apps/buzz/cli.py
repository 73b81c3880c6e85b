"""`riverbed train buzz`: fit the buzz model over the lake, save the next version, make it current."""

from __future__ import annotations

import argparse
import sys


def train_command(args: argparse.Namespace) -> int:
    """Train over `<home>/lake/buzz` and print the new version's metrics and top terms per cluster."""
    from riverbed.apps.buzz.model import train
    from riverbed.cli._common import emit, table
    from riverbed.config import resolve_home
    from riverbed.spark import get_spark

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
    emit(table(["cluster", "documents", "top terms"],
               [[int(c), info["cluster_sizes"].get(int(c), 0), " ".join(t)]
                for c, t in sorted(info["top_terms"].items(), key=lambda x: int(x[0]))]))
    return 0
