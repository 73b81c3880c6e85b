"""`riverbed run PIPELINE --mode stream|batch`: one pipeline definition, on data in motion or at rest."""

from __future__ import annotations

import argparse
import sys
import time

from riverbed.cli._common import add_app_argument, add_master_option, positive_int
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a pipeline as a stream over the log or as a batch over data at rest",
        description="Run PIPELINE (e.g. logwatch). Stream mode follows the log with checkpoints and "
        "exactly-once outputs; batch mode recomputes every output over the retained log or the lake.",
    )
    add_app_argument(p)
    p.add_argument("--mode", choices=["stream", "batch"], default="stream", help="(default: stream)")
    p.add_argument("--topic", help="input topic (default: the pipeline's own, e.g. logs)")
    p.add_argument("--trigger", default="1s", help="stream: micro-batch interval, 0 = as fast as possible "
                   "(default: 1s)")
    p.add_argument("--available-now", action="store_true",
                   help="stream: process everything available now, then exit")
    p.add_argument("--max-records-per-trigger", type=positive_int, metavar="N",
                   help="stream: at most N records per micro-batch")
    p.add_argument("--latency-target", metavar="DURATION",
                   help="stream: adapt the trigger and batch size while running to keep p99 latency "
                   "(append -> store) under DURATION when the load allows, e.g. 500ms or 1s "
                   "(replaces --trigger)")
    p.add_argument("--source", choices=["log", "lake"], default="log",
                   help="batch: read the retained log or the lake (default: log)")
    p.add_argument("--from", dest="time_from", metavar="T",
                   help="batch: event time from (ISO 8601 or epoch ms)")
    p.add_argument("--to", dest="time_to", metavar="T",
                   help="batch: event time before (ISO 8601 or epoch ms)")
    add_master_option(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.errors import InvalidArgument
    from riverbed.pipeline.runner import Runner
    from riverbed.timeutil import parse_duration_ms, parse_time_ms

    apply_storage_options(args)
    target_ms = parse_duration_ms(args.latency_target) if args.latency_target else None
    if target_ms is not None and (target_ms < 100 or args.available_now or args.mode == "batch"):
        why = ("needs at least 100ms" if target_ms < 100
               else "applies to --mode stream without --available-now")
        raise InvalidArgument(f"--latency-target {args.latency_target}: {why}",
                              hint="e.g. --latency-target 500ms")
    options = {"topic": args.topic} if args.topic else {}
    runner = Runner(args.pipeline, log=args.log, home=args.home, master=args.master, **options)
    if args.mode == "batch":
        t0 = time.monotonic()
        res = runner.batch(
            source=args.source,
            time_from=parse_time_ms(args.time_from) if args.time_from else None,
            time_to=parse_time_ms(args.time_to) if args.time_to else None,
        )
        outs = ", ".join(f"{k}={v}" for k, v in res.outputs.items())
        print(f"batch {runner.pipeline.name} over the {args.source}: {res.records} records, "
              f"{res.bad} unparsable; "
              f"rows: {outs} ({time.monotonic() - t0:.1f}s)", file=sys.stderr)
        return 0
    trigger_ms = parse_duration_ms(args.trigger)
    runner.stream(
        trigger_ms=trigger_ms,
        available_now=args.available_now,
        max_records_per_trigger=args.max_records_per_trigger,
        latency_target_ms=target_ms,
        progress=lambda s: print(s.line(), file=sys.stderr, flush=True),
    )
    return 0
