"""`riverbed rollback PIPELINE`: serve the previous version again (Kappa)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rollback", help="Kappa: serve the previous version again")
    p.add_argument("pipeline", metavar="PIPELINE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.kappa import rollback

    version = rollback(args.pipeline, home=args.home)
    print(f"{args.pipeline}: rolled back, {version} serves queries", file=sys.stderr)
    return 0
