"""`riverbed produce TOPIC`: append one record per input line, in batches.

A line that cannot be used (with --key-field: not JSON, not an object, no such field) never stops
the lines after it: it goes to the dead-letter topic `<topic>.dlq` with the reason in its
`riverbed.reason` header, the summary names the first few, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from riverbed.cli._common import check_partition, non_negative_int, note, opened_log, positive_int

SOURCE = "cli:produce"
SHOW_BAD = 3  # bad lines named in the summary


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `produce`."""
    p = subparsers.add_parser(
        "produce",
        help="append lines from stdin or a file to a topic",
        description="Append one record per input line (the line without its newline is the value).\n"
        "Keyed records go to murmur2(key) %% partitions, as Kafka's default partitioner does.",
        epilog="examples:\n"
        "  cat events.jsonl | riverbed produce events --key-field user\n"
        "  riverbed produce logs --file access.log --key web-1",
    )
    p.add_argument("topic", help="topic to append to (it must exist)")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-field", metavar="FIELD", help="each line is a JSON object; its FIELD is the key")
    keys.add_argument("--key", metavar="KEY", help="the same key for every record")
    p.add_argument("--file", "-f", metavar="FILE", help="read FILE instead of standard input")
    p.add_argument("--partition", "-p", type=non_negative_int, metavar="P", help="write every record to P")
    p.add_argument("--batch-size", type=positive_int, default=1000, metavar="N",
                   help="lines per append (default: 1000)")
    p.set_defaults(func=run)


@dataclass
class Stats:
    """What a produce run did: records per partition, and the bad lines (number, reason)."""

    per_partition: dict[int, int] = field(default_factory=dict)
    bad: list[tuple[int, str]] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(self.per_partition.values())


class BadLine(ValueError):
    """A line that cannot become a record; the message is the reason."""


def run(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        info = log.describe(args.topic)  # TopicNotFound (with its hint) before reading any input
        check_partition(args.partition, info.config.partitions, args.topic)
        with _input(args.file) as lines:
            stats = produce_lines(log, args.topic, lines, args.key_field, args.key, args.partition,
                                  args.batch_size)
    note(summary(args.topic, stats))
    return 1 if stats.bad else 0


def produce_lines(log, topic: str, lines, key_field: str | None, key: str | None,
                  partition: int | None, batch_size: int) -> Stats:
    """Append `lines` (bytes, newline included or not) to `topic`; bad lines go to the DLQ."""
    from riverbed.dlq import dead_letter_record, write_dead_letters

    stats = Stats()
    fixed_key = key.encode() if key is not None else None
    keyed = key_field is not None or fixed_key is not None
    values: list[bytes] = []
    keys: list[bytes | None] = []
    dead: list = []

    def flush() -> None:
        if values:
            result = log.append_values(topic, values, keys=keys if keyed else None, partition=partition)
            for p, n in result.per_partition().items():
                stats.per_partition[p] = stats.per_partition.get(p, 0) + n
            values.clear()
            keys.clear()
        if dead:
            write_dead_letters(log, topic, dead)
            dead.clear()

    for number, raw in enumerate(lines, 1):
        line = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
        try:
            k = key_of(line, key_field) if key_field else fixed_key
        except BadLine as e:
            stats.bad.append((number, str(e)))
            dead.append(dead_letter_record(line, f"line {number}: {e}", SOURCE))
        else:
            values.append(line)
            keys.append(k)
        if len(values) + len(dead) >= batch_size:
            flush()
    flush()
    return stats


def key_of(line: bytes, key_field: str) -> bytes:
    """The key of a JSON line: its `key_field` value (strings as-is, other values as compact JSON)."""
    try:
        obj = json.loads(line)
    except UnicodeDecodeError:
        raise BadLine("not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise BadLine(f"invalid JSON: {e.msg} at column {e.colno}") from None
    except RecursionError:
        raise BadLine("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise BadLine(f"not a JSON object, so no field '{key_field}'")
    if key_field not in obj:
        raise BadLine(f"no field '{key_field}'")
    value = obj[key_field]
    if value is None:
        raise BadLine(f"field '{key_field}' is null")
    return (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))).encode()


def summary(topic: str, stats: Stats) -> str:
    """One line: records per partition, then the bad lines (the first few with their reasons)."""
    text = f"produced {stats.written} record{'s' if stats.written != 1 else ''} to {topic}"
    if stats.per_partition:
        text += ": " + " ".join(f"p{p}={n}" for p, n in sorted(stats.per_partition.items()))
    if stats.bad:
        n = len(stats.bad)
        shown = "; ".join(f"line {num}: {reason}" for num, reason in stats.bad[:SHOW_BAD])
        more = f"; {n - SHOW_BAD} more" if n > SHOW_BAD else ""
        text += (f"; {n} bad line{'s' if n != 1 else ''} skipped ({shown}{more}), "
                 f"kept in {topic}.dlq (see `riverbed consume {topic}.dlq`)")
    return text


@contextmanager
def _input(path: str | None) -> Iterator[IO[bytes]]:
    """Lines of `path` ('-' or None: standard input) as bytes; unreadable files raise InvalidArgument."""
    from riverbed.errors import InvalidArgument

    if path is None or path == "-":
        yield sys.stdin.buffer
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, errors wrapped
    except OSError as e:
        raise InvalidArgument(f"cannot read {path}: {e.strerror}",
                              hint="check the path and its permissions, or pipe the lines on stdin") from None
    with f:
        yield f
