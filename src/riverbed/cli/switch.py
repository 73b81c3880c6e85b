"""`riverbed switch PIPELINE VERSION`: make a caught-up version answer queries, atomically (Kappa)."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli._common import add_app_argument
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("switch", help="Kappa: make a version serve queries (refused while it lags)")
    add_app_argument(p)
    p.add_argument("version", metavar="VERSION")
    p.add_argument("--force", action="store_true", help="switch even if the version still lags")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.app import pipeline_name
    from riverbed.kappa import switch

    apply_storage_options(args)
    switch(args.pipeline, args.version, force=args.force, home=args.home, log=args.log)
    print(f"{pipeline_name(args.pipeline)}: {args.version} now serves queries", file=sys.stderr)
    return 0
