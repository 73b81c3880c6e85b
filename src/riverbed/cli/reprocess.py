"""`riverbed reprocess PIPELINE --version v2`: Kappa — run the changed pipeline over the retained log."""

from __future__ import annotations

import argparse
import json
import sys

from riverbed.cli._common import add_app_argument, add_master_option
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reprocess",
        help="Kappa: run a new version of a pipeline from the start of the log into its own outputs",
        description="Run PIPELINE as VERSION from the earliest retained record into separate outputs "
        "(queries keep answering from the serving version). `riverbed versions` shows its lag; "
        "`riverbed switch` makes it serve once it has caught up.",
        epilog="example:\n"
        '  riverbed reprocess logwatch --version v2 --set level_window="30 seconds" --available-now',
    )
    add_app_argument(p)
    p.add_argument("--version", required=True, help="the new version's name, e.g. v2")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a pipeline option for this version (the changed code), "
                   "e.g. level_window='30 seconds'")
    p.add_argument("--available-now", action="store_true", help="catch up with the log, then exit")
    p.add_argument("--trigger", default="1s", help="micro-batch interval once caught up (default: 1s)")
    add_master_option(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def parse_options(items: list[str]) -> dict[str, object]:
    """KEY=VALUE pairs; a VALUE that reads as JSON (60000, true) is taken as such, else as text."""
    from riverbed.errors import InvalidArgument

    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise InvalidArgument(
                f"--set {item!r} is not KEY=VALUE", hint="e.g. --set level_window='30 seconds'"
            )
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def run(args: argparse.Namespace) -> int:
    from riverbed.kappa import reprocess
    from riverbed.pipeline.registry import get_pipeline
    from riverbed.spark import get_spark
    from riverbed.timeutil import parse_duration_ms

    apply_storage_options(args)
    options = parse_options(args.set)
    name = get_pipeline(args.pipeline, **options).name  # a bad reference or option fails before Spark
    handle = reprocess(
        args.pipeline, args.version, home=args.home, log=args.log, options=options,
        available_now=args.available_now, trigger_ms=parse_duration_ms(args.trigger),
        spark=get_spark(args.master), progress=lambda s: print(s.line(), file=sys.stderr, flush=True),
    )
    done = sum(s.records for s in handle.history)
    print(f"{name} {args.version}: {done} records processed; "
          f"see `riverbed versions {args.pipeline}`", file=sys.stderr)
    return 0
