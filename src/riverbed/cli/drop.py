"""`riverbed drop PIPELINE VERSION`: delete an old version's outputs, checkpoints and lake (Kappa)."""

from __future__ import annotations

import argparse
import sys

from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("drop", help="Kappa: delete an old version's outputs (not the serving one)")
    p.add_argument("pipeline", metavar="PIPELINE")
    p.add_argument("version", metavar="VERSION")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.kappa import drop

    apply_storage_options(args)
    drop(args.pipeline, args.version, home=args.home)
    print(f"{args.pipeline}: {args.version} dropped", file=sys.stderr)
    return 0
