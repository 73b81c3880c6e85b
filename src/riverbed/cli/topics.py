"""`riverbed topics create|list|describe|delete`: manage the log's topics."""

from __future__ import annotations

import argparse
import json

from riverbed.cli._common import emit, non_negative_int, opened_log, positive_int, table

FSYNC_CHOICES = ("always", "none")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `topics` and its subcommands."""
    p = subparsers.add_parser(
        "topics",
        help="create, list, describe and delete topics",
        description="Create, list, describe and delete the log's topics.",
    )
    sub = p.add_subparsers(title="subcommands", dest="subcommand", metavar="SUBCOMMAND", required=True)

    c = sub.add_parser(
        "create",
        help="create a topic",
        description="Create a topic of N partitions.",
        epilog="example:\n  riverbed topics create logs --partitions 4 --retention-ms 604800000",
    )
    c.add_argument("name", help="topic name")
    c.add_argument("--partitions", type=non_negative_int, default=1, metavar="N", help="(default: 1)")
    c.add_argument("--retention-ms", type=positive_int, metavar="MS", help="drop records older than this")
    c.add_argument(
        "--retention-bytes", type=positive_int, metavar="B", help="keep at most B bytes per partition"
    )
    c.add_argument(
        "--fsync",
        choices=FSYNC_CHOICES,
        default="none",
        help="always: each append survives a power loss; none: a process crash (default: none)",
    )
    c.set_defaults(func=create)

    sub.add_parser("list", help="list topics", description="List topics with their partitions and records.")
    sub.choices["list"].set_defaults(func=list_topics)

    d = sub.add_parser(
        "describe",
        help="offsets, sizes and config of a topic",
        description="Per partition: the first retained offset, the next offset to be written, bytes.",
    )
    d.add_argument("name", help="topic name")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(func=describe)

    x = sub.add_parser("delete", help="delete a topic and its records", description="Delete a topic.")
    x.add_argument("name", help="topic name")
    x.set_defaults(func=delete)


def create(args: argparse.Namespace) -> int:
    from riverbed.log import TopicConfig

    config = TopicConfig(
        partitions=args.partitions,
        retention_ms=args.retention_ms,
        retention_bytes=args.retention_bytes,
        fsync=args.fsync,
    )
    with opened_log(args) as log:
        log.create_topic(args.name, config)
    emit(f"created topic {args.name}: {_config_text(config)}")
    return 0


def list_topics(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        infos = [log.describe(name) for name in log.topics()]
    if not infos:
        emit("no topics (create one with `riverbed topics create NAME --partitions N`)")
        return 0
    rows = [(i.name, i.config.partitions, i.records, sum(p.bytes for p in i.partitions)) for i in infos]
    emit(table(["TOPIC", "PARTITIONS", "RECORDS", "BYTES"], rows))
    return 0


def describe(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        info = log.describe(args.name)
    cfg = info.config
    if args.json:
        doc = {
            "name": info.name,
            "config": {
                "partitions": cfg.partitions,
                "retention_ms": cfg.retention_ms,
                "retention_bytes": cfg.retention_bytes,
                "fsync": cfg.fsync,
            },
            "records": info.records,
            "partitions": [
                {"partition": p.partition, "start_offset": p.start_offset, "end_offset": p.end_offset,
                 "bytes": p.bytes}
                for p in info.partitions
            ],
        }
        emit(json.dumps(doc))
        return 0
    emit(f"topic {info.name}: {_config_text(cfg)}; {info.records} records")
    rows = [
        (p.partition, p.start_offset, p.end_offset, p.end_offset - p.start_offset, p.bytes)
        for p in info.partitions
    ]
    emit(table(["PARTITION", "START", "END", "RECORDS", "BYTES"], rows))
    return 0


def delete(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        log.delete_topic(args.name)
    emit(f"deleted topic {args.name}")
    return 0


def _config_text(cfg) -> str:
    def limit(v: int | None, unit: str) -> str:
        return "none" if v is None else f"{v} {unit}"

    return (
        f"{cfg.partitions} partition{'s' if cfg.partitions != 1 else ''}, "
        f"retention {limit(cfg.retention_ms, 'ms')} / {limit(cfg.retention_bytes, 'bytes')}, "
        f"fsync {cfg.fsync}"
    )
