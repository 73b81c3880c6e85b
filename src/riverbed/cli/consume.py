"""`riverbed consume TOPIC`: print a topic's records, one per line, optionally following it.

With --group, reading resumes from the group's committed offsets (unless --from is given) and
the offset after each printed record is committed once it has been written to stdout, so a
record is printed at least once across runs. Ctrl-C or SIGTERM stops cleanly with exit status 0.

Values are printed as they are when stdout is a pipe or a file (`consume t > t.txt` keeps the
bytes); on a terminal, control characters and terminal escapes in a value are shown escaped
(`\x1b`, `\x0b`, undecodable bytes as `\xff`), so a record cannot act on the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from riverbed.cli._common import check_partition, non_negative_int, opened_log, positive_int

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
POLL_RECORDS = 500
FOLLOW_WAIT_S = 0.5
CATCH_UP_TIMEOUT_S = 10.0  # without --follow: give up if records reported as present never arrive


@dataclass(frozen=True, slots=True)
class From:
    """Where to start: kind is "beginning", "end", "offset" (value: offset) or "time" (value: epoch ms)."""

    kind: str
    value: int = 0


def parse_from(text: str) -> From:
    """Parse --from: beginning | end | OFFSET | ISO time (naive times are UTC)."""
    t = text.strip().lower()
    if t in ("beginning", "earliest"):
        return From("beginning")
    if t in ("end", "latest"):
        return From("end")
    if t.isdigit():
        return From("offset", int(t))
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected beginning, end, an offset or an ISO time like 2016-07-07T00:00:00Z, got {text!r}"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return From("time", (dt - EPOCH) // timedelta(milliseconds=1))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `consume`."""
    p = subparsers.add_parser(
        "consume",
        help="print a topic's records (optionally following it)",
        description="Print record values one per line, or with --json one object per line:\n"
        '  {"topic", "partition", "offset", "key", "value", "timestamp"}\n'
        "(key and value as UTF-8 text, undecodable bytes replaced; timestamp in epoch ms).",
        epilog="examples:\n"
        "  riverbed consume logs --from beginning --max 10\n"
        "  riverbed consume logs --from 2016-07-07T00:00:00Z --json\n"
        "  riverbed consume logs --group alerts --follow",
    )
    p.add_argument("topic", help="topic to read")
    p.add_argument(
        "--from",
        dest="start",
        type=parse_from,
        metavar="WHERE",
        help="beginning, end, an OFFSET (in each partition) or an ISO time "
        "(default: the group's committed offsets, else beginning)",
    )
    p.add_argument("--max", type=positive_int, metavar="N", help="stop after N records")
    p.add_argument("--group", metavar="G", help="consumer group: resume from and commit its offsets")
    p.add_argument("--follow", action="store_true", help="keep waiting for new records until Ctrl-C")
    p.add_argument("--json", action="store_true", help="one JSON object per record")
    p.add_argument("--headers", action="store_true",
                   help='with --json, add "headers": [[name, value], ...] (e.g. a dead letter\'s reason)')
    p.add_argument("--partition", "-p", type=non_negative_int, metavar="P", help="only partition P")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with opened_log(args) as log:
        consumer = _consumer(log, args)
        committed: dict[int, int] = {}  # partition -> offset after the last record written out
        try:
            _print_records(consumer, args, committed)
        except (KeyboardInterrupt, BrokenPipeError) as e:
            _commit(log, args, committed)
            if isinstance(e, BrokenPipeError):
                raise  # main() silences stdout and exits 0
            return 0
        _commit(log, args, committed)
    return 0


def _consumer(log, args: argparse.Namespace):
    from riverbed.log import Consumer

    info = log.describe(args.topic)
    check_partition(args.partition, info.config.partitions, args.topic)
    resume = args.group is not None and args.start is None
    only = None if args.partition is None else [args.partition]
    consumer = Consumer(log, args.topic, group=args.group, start="committed" if resume else "earliest",
                        partitions=only)
    start = args.start
    if start is None or start.kind == "beginning":
        if not resume:
            consumer.seek_to_beginning()
    elif start.kind == "end":
        consumer.seek_to_end()
    elif start.kind == "time":
        consumer.seek_to_timestamp(start.value)
    else:
        for topic, p in consumer.position():
            consumer.seek(topic, p, start.value)
    return consumer


def _print_records(consumer, args: argparse.Namespace, committed: dict[int, int]) -> None:
    """Print until --max, or (without --follow) until every partition is read to its end."""
    out = sys.stdout.buffer
    fmt = (_json_with_headers if args.headers else _json_line) if args.json else _text_line
    if fmt is _text_line and sys.stdout.isatty():
        fmt = _terminal_line  # a terminal gets text, never the control bytes a record may hold
    remaining = args.max
    stalled_since: float | None = None
    while remaining is None or remaining > 0:
        limit = POLL_RECORDS if remaining is None else min(POLL_RECORDS, remaining)
        batch = consumer.poll(limit, timeout=FOLLOW_WAIT_S if args.follow else 0.0)
        if not batch:
            if args.follow:
                continue
            if all(lag <= 0 for lag in consumer.lag().values()):
                return
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > CATCH_UP_TIMEOUT_S:
                return
            time.sleep(0.05)
            continue
        stalled_since = None
        out.write(b"".join(fmt(r) for r in batch))
        out.flush()
        for r in batch:
            committed[r.partition] = r.offset + 1
        if remaining is not None:
            remaining -= len(batch)
        if args.group:
            _commit(consumer.log, args, committed)


def _commit(log, args: argparse.Namespace, committed: dict[int, int]) -> None:
    if args.group and committed:
        log.commit(args.group, args.topic, dict(committed))


def _text(b: bytes | None) -> str | None:
    return None if b is None else b.decode("utf-8", "replace")


def _text_line(r) -> bytes:
    return (r.value or b"") + b"\n"


def _terminal_line(r) -> bytes:
    """A record's value for a terminal: control characters and escapes shown escaped, one line each."""
    from riverbed.safetext import printable_bytes

    return printable_bytes(r.value or b"").encode() + b"\n"


def _json_line(r, extra: dict | None = None) -> bytes:
    doc = {
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "key": _text(r.key),
        "value": _text(r.value),
        "timestamp": r.timestamp,
        **(extra or {}),
    }
    return json.dumps(doc, ensure_ascii=False).encode() + b"\n"


def _json_with_headers(r) -> bytes:
    return _json_line(r, {"headers": [[k, _text(v)] for k, v in r.headers]})
