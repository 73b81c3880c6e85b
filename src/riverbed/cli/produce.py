"""`riverbed produce TOPIC`: append one record per input line, in batches.

Keys: see riverbed.cli._produce_keys. Lines without a key go to one partition per append batch,
the next partition for the next batch (Kafka's sticky partitioner; the log chooses it).

A line that cannot be used (with --key-field: not JSON, not an object, no such field or column) never stops
the lines after it: it goes to the dead-letter topic `<topic>.dlq` with the reason in its
`riverbed.reason` header, the summary names the first few, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from riverbed.cli._common import check_partition, non_negative_int, note, opened_log, positive_int
from riverbed.cli._produce_keys import BadLine, KeyOf, csv_row, key_function
from riverbed.cli._produce_keys import json_key as key_of

__all__ = ["BadLine", "Stats", "key_of", "produce_lines", "register", "run", "summary"]

SOURCE = "cli:produce"
SHOW_BAD = 3  # bad lines named in the summary


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `produce`."""
    p = subparsers.add_parser(
        "produce",
        help="append lines from stdin or a file to a topic",
        description="Append one record per input line (the line without its newline is the value).\n"
        "Keyed records go to murmur2(key) %% partitions, as Kafka's default partitioner does; records "
        "without a key go to one partition per batch, the next partition for the next batch (Kafka's "
        "sticky partitioner).",
        epilog="examples:\n"
        "  cat events.jsonl | riverbed produce events --key-field user\n"
        "  riverbed produce trades --file trades.csv --key-field 2\n"
        "  riverbed produce trades --file trades.csv --csv-header --key-field symbol\n"
        "  riverbed produce logs --file access.log --key-regex '^(\\S+)'\n"
        "  riverbed produce logs --file access.log --key web-1",
    )
    p.add_argument("topic", help="topic to append to (it must exist)")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-field", metavar="FIELD",
                      help="each line is a JSON object and its FIELD is the key; a number N: each line is "
                      "CSV and its Nth column (1-based) is the key; with --csv-header, a column name")
    keys.add_argument("--key-regex", metavar="RE",
                      help="the key is the regex's first group in the line (the whole match if it has no "
                      "group); a line it does not match has no key")
    keys.add_argument("--key", metavar="KEY", help="the same key for every record")
    p.add_argument("--csv-header", action="store_true",
                   help="the first line is a CSV header naming the columns (not produced); "
                   "--key-field names one of them")
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


def run(args: argparse.Namespace) -> int:
    from riverbed.errors import InvalidArgument

    if args.csv_header and args.key_field is None:
        raise InvalidArgument("--csv-header needs --key-field (a column name or number)",
                              hint="e.g. --csv-header --key-field symbol")
    with opened_log(args) as log:
        info = log.describe(args.topic)  # TopicNotFound (with its hint) before reading any input
        check_partition(args.partition, info.config.partitions, args.topic)
        with _input(args.file) as lines:
            header = _header(lines) if args.csv_header else None
            key = key_function(args.key_field, args.key, args.key_regex, header)
            stats = produce_lines(log, args.topic, lines, key, args.partition, args.batch_size,
                                  first_line=2 if header is not None else 1)
    note(summary(args.topic, stats))
    return 1 if stats.bad else 0


def _header(lines) -> list[str]:
    """The CSV header's column names: the first line (empty input: no columns)."""
    first = next(iter(lines), b"")
    return [c.strip() for c in csv_row(first.rstrip(b"\r\n"))]


def produce_lines(log, topic: str, lines, key: KeyOf | None, partition: int | None, batch_size: int,
                  first_line: int = 1) -> Stats:
    """Append `lines` (bytes, newline included or not) to `topic`, each keyed by `key(line)` (None:
    no keys); bad lines go to the DLQ. Each batch is one append, so unkeyed records of a batch share
    a partition, the log's sticky choice (Kafka's)."""
    from riverbed.dlq import dead_letter_record, write_dead_letters

    stats = Stats()
    values: list[bytes] = []
    keys: list[bytes | None] = []
    dead: list = []

    def flush() -> None:
        if values:
            keyed = any(k is not None for k in keys)
            result = log.append_values(topic, values, keys=keys if keyed else None, partition=partition)
            for p, n in result.per_partition().items():
                stats.per_partition[p] = stats.per_partition.get(p, 0) + n
            values.clear()
            keys.clear()
        if dead:
            write_dead_letters(log, topic, dead)
            dead.clear()

    for number, raw in enumerate(lines, first_line):
        line = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
        try:
            k = key(line) if key is not None else None
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
