"""`riverbed drop PIPELINE VERSION`: delete an old version's outputs, checkpoints and lake (Kappa)."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli._common import add_app_argument
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("drop", help="Kappa: delete an old version's outputs (not the serving one)")
    add_app_argument(p)
    p.add_argument("version", metavar="VERSION")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.kappa import drop

    apply_storage_options(args)
    from riverbed.app import pipeline_name

    name = pipeline_name(args.pipeline)
    drop(name, args.version, home=args.home)
    print(f"{name}: {args.version} dropped", file=sys.stderr)
    return 0
