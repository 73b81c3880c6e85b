"""`riverbed drop PIPELINE VERSION`: delete an old version's outputs, checkpoints and lake (Kappa)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("drop", help="Kappa: delete an old version's outputs (not the serving one)")
    p.add_argument("pipeline", metavar="PIPELINE")
    p.add_argument("version", metavar="VERSION")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.kappa import drop

    drop(args.pipeline, args.version, home=args.home)
    print(f"{args.pipeline}: {args.version} dropped", file=sys.stderr)
    return 0
