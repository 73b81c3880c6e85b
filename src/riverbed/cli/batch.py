"""`riverbed batch PIPELINE`: the Lambda batch layer — recompute the views from the lake up to a cutoff."""

from __future__ import annotations

import argparse
import sys

from riverbed.cli._common import add_app_argument, add_master_option
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="Lambda batch layer: recompute a pipeline's views over the lake up to a cutoff",
        description="Recompute every view of PIPELINE from the lake (the records the stream kept) for "
        "times before the cutoff, then move the cutoff: queries answer from these batch views before it "
        "and from the stream after it. Default cutoff: the stream's watermark (its newest event time minus "
        "the pipeline's lateness), rounded down to the minute. It prints the cutoff and where it came "
        "from, the records before it and those left to the speed layer.",
    )
    add_app_argument(p)
    p.add_argument("--cutoff", metavar="T", help="recompute times before T (ISO 8601 or epoch ms)")
    add_master_option(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.app import pipeline_name
    from riverbed.kappa import serving_version
    from riverbed.layers import run_batch_layer
    from riverbed.pipeline.runner import Runner
    from riverbed.timeutil import parse_time_ms

    apply_storage_options(args)
    name = pipeline_name(args.pipeline)
    version = serving_version(name, home=args.home)
    runner = Runner(args.pipeline, log=args.log, home=args.home, version=version, master=args.master)
    res = run_batch_layer(runner, parse_time_ms(args.cutoff) if args.cutoff else None)
    for line in report(name, version, res):
        print(line, file=sys.stderr)
    return 0


def report(name: str, version: str, res) -> list[str]:
    """What the batch layer did: its cutoff and why, the records before it and those left to the
    speed layer, and a hint when it covered none."""
    from riverbed.timeutil import iso

    views = ", ".join(f"{k}={v}" for k, v in res.views.items())
    lines = [
        f"cutoff {iso(res.cutoff_ms)} ({res.origin})",
        f"batch layer {name} {version}: {res.records} records before {iso(res.cutoff_ms)} "
        f"-> generation {res.generation} ({views}) in {res.seconds:.1f}s; "
        f"{res.later} later records left to the speed layer",
    ]
    if res.records == 0:
        first = "" if res.first_later_ms is None else f" (the lake's first is at {iso(res.first_later_ms)})"
        wait = "" if res.origin == "--cutoff" else ", or wait until the stream's watermark passes them"
        lines.append(f"hint: no records before the cutoff{first}: pass a later --cutoff T{wait}")
    return lines
