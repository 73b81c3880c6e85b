"""`riverbed groups`: committed offsets and lag of consumer groups."""

from __future__ import annotations

import argparse
import json

from riverbed.cli._common import emit, opened_log, table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `groups`."""
    p = subparsers.add_parser(
        "groups",
        help="committed offsets and lag per consumer group",
        description="Per group, topic and partition: the committed offset (the next record the group "
        "reads), the end offset, and the lag between them.",
    )
    p.add_argument("--group", metavar="G", help="only this group")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        rows = log.group_lag(args.group)
    if args.json:
        for r in rows:
            emit(json.dumps({"group": r.group, "topic": r.topic, "partition": r.partition,
                             "committed": r.committed, "end_offset": r.end_offset, "lag": r.lag}))
        return 0
    if not rows:
        which = f" for group '{args.group}'" if args.group else ""
        emit(f"no consumer groups have committed offsets{which}")
        return 0
    emit(table(["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"],
               [(r.group, r.topic, r.partition, r.committed, r.end_offset, r.lag) for r in rows]))
    return 0
