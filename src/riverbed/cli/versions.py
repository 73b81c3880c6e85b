"""`riverbed versions PIPELINE`: each version's status and lag (Kappa)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from riverbed.cli._common import add_app_argument
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("versions", help="Kappa: a pipeline's versions, which serves, and their lag")
    add_app_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.cli._common import emit, table
    from riverbed.kappa import versions
    from riverbed.timeutil import iso

    apply_storage_options(args)
    rows = versions(args.pipeline, home=args.home, log=args.log)
    if args.json:
        sys.stdout.write("".join(json.dumps(dataclasses.asdict(v)) + "\n" for v in rows))
        return 0
    emit(table(["VERSION", "STATUS", "LAG", "CREATED", "OPTIONS"],
               [[v.version, v.status, v.lag, iso(v.created_ms) or "-",
                 json.dumps(v.options) if v.options else "-"] for v in rows]))
    return 0
