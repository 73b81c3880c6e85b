"""`riverbed rollback PIPELINE`: serve the previous version again (Kappa)."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli._common import add_app_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rollback", help="Kappa: serve the previous version again")
    add_app_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.app import pipeline_name
    from riverbed.kappa import rollback

    name = pipeline_name(args.pipeline)
    version = rollback(name, home=args.home)
    print(f"{name}: rolled back, {version} serves queries", file=sys.stderr)
    return 0
