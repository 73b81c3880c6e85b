"""`riverbed ingest KIND ... TOPIC`: run a connector into a topic until its input ends or Ctrl-C.

Kinds: `socket` (a TCP server, one record per line, many clients), `tail` (follow a file through
rotation), `replay` (a recorded file at a chosen speed or rate), `synthetic-logs` (generated
server logs). Input the connector cannot use goes to `<TOPIC>.dlq` with the reason; progress
goes to stderr every few seconds and a summary (records in / written / rejected) at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
from collections.abc import Callable

from riverbed.cli._common import note, opened_log, positive_int
from riverbed.log import mask_url

PROGRESS_EVERY_S = 5.0


def rate_arg(text: str) -> float:
    """argparse type: records per second, as "500" or "500/s"."""
    t = text.strip().lower().removesuffix("/s")
    try:
        rate = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected records per second like 500/s, got {text!r}") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError(f"rate must be > 0, got {text!r}")
    return rate


def speed_arg(text: str) -> float:
    """argparse type: a replay speed factor, as "10x" or "0.5"."""
    try:
        speed = float(text.strip().lower().removesuffix("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a speed like 10x or 0.5x, got {text!r}") from None
    if speed <= 0:
        raise argparse.ArgumentTypeError(f"speed must be > 0, got {text!r}")
    return speed


#: Modules in riverbed.cli exposing `register_kinds(kinds)`: more generic ingest kinds (GitHub events,
#: social streams, Meetup RSVPs); apps add theirs through entry points 'ingest.NAME' (cli/mount.py).
MORE_KINDS: list[str] = ["ingest_buzz"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `ingest` and its kinds."""
    p = subparsers.add_parser(
        "ingest",
        help="bring data into a topic: socket server, file tail, replay, synthetic logs",
        description=__doc__.split("\n\n", 1)[1],
        epilog="examples:\n"
        "  riverbed ingest socket --port 9999 lines        # then: nc 127.0.0.1 9999\n"
        "  riverbed ingest tail /var/log/syslog syslog\n"
        "  riverbed ingest replay events.jsonl events --time-field created_at --speed 10x\n"
        "  riverbed ingest synthetic-logs logs --rate 500/s --duration 60 --seed 1",
    )
    kinds = p.add_subparsers(title="kinds", dest="kind", metavar="KIND", required=True)

    s = kinds.add_parser("socket", help="TCP server: one record per text line, many clients at once")
    s.add_argument("--port", type=int, required=True, help="port to listen on (0: any free port)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.set_defaults(func=run_socket)

    t = kinds.add_parser("tail", help="follow a file's appends, through rotation (like tail -F)")
    t.add_argument("file", help="file to follow")
    t.add_argument("--from-start", action="store_true", help="send the lines already in the file too")
    t.set_defaults(func=run_tail)

    r = kinds.add_parser("replay", help="replay a recorded file (JSON lines or text logs)")
    r.add_argument("file", help="recorded file, one record per line (.gz is fine)")
    pace = r.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=speed_arg, help="pace by the recorded time gaps, N times faster (10x)")
    pace.add_argument("--rate", type=rate_arg, help="pace at N records/s (default: as fast as possible)")
    r.add_argument(
        "--time-field",
        metavar="FIELD[,FIELD]",
        help="JSON field(s) holding the event time (a.b = nested; epoch s/ms or ISO)",
    )
    r.add_argument(
        "--log-times",
        action="store_true",
        help="text logs: take each line's event time from its text (the reader an installed app adds "
        "as entry point 'log' in group riverbed.line_times: logwatch's reads HDFS/Hadoop/Spark/Apache/"
        "syslog lines)",
    )
    r.add_argument("--loop", action="store_true", help="start again at the end (times shifted forward)")
    r.set_defaults(func=run_replay)

    g = kinds.add_parser("synthetic-logs", help="generated server logs (HDFS, Hadoop, Spark, Apache, syslog)")
    g.add_argument("--rate", type=rate_arg, default=100.0, help="lines per second (default: 100/s)")
    g.add_argument("--seed", type=int, default=0, help="random seed: same seed, same lines (default: 0)")
    g.add_argument(
        "--formats", default=None, help="comma-separated subset of hdfs,hadoop,spark,apache,linux,openssh"
    )
    g.set_defaults(func=run_synthetic)

    for k in (s, t, g):
        add_common_options(k, rate=k is not g)
    add_common_options(r, rate=False)
    for name in MORE_KINDS:
        importlib.import_module(f"riverbed.cli.{name}").register_kinds(kinds)
    from riverbed.cli.mount import mount

    mount(kinds, "ingest")  # the apps' own kinds (bitcoin's coinbase, bpi, bitcoin-history; ysb)


def add_common_options(k: argparse.ArgumentParser, *, rate: bool = True) -> None:
    """The options every ingest kind takes: the topic, batching, pacing, duration, decoding."""
    k.add_argument("topic", help="topic to append to (created if missing)")
    k.add_argument("--partitions", type=positive_int, default=1, help="partitions if the topic is created")
    k.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    k.add_argument("--batch-size", type=positive_int, default=500, metavar="N", help="records per append")
    k.add_argument(
        "--linger-ms",
        type=int,
        default=200,
        metavar="MS",
        help="append a partial batch after MS milliseconds (default: 200)",
    )
    k.add_argument("--utf8", action="store_true", help="reject (to TOPIC.dlq) lines that are not UTF-8")
    k.add_argument("--key-regex", metavar="RE", help="key = the regex's first group in the line")
    if rate:
        k.add_argument("--rate", type=rate_arg, help="at most N records/s")


def run_socket(args: argparse.Namespace) -> int:
    from riverbed.connectors import SocketTextSource

    source = SocketTextSource(args.port, args.host)
    what = f"listening on {source.host}:{source.port} (one record per line; Ctrl-C stops)"
    return run_source(args, source, what)


def run_tail(args: argparse.Namespace) -> int:
    from riverbed.connectors import TailSource

    source = TailSource(args.file, from_start=args.from_start)
    return run_source(args, source, f"following {args.file}{' from its start' if args.from_start else ''}")


LINE_TIMES = "riverbed.line_times"


def line_time_reader(name: str = "log") -> Callable[[bytes], int | None]:
    """A new reader of text lines' event times (epoch ms, None when a line has none), made by the
    factory an installed app offers as entry point NAME in group riverbed.line_times (a reader per
    file, so it can learn the file's layout from its first lines)."""
    from importlib.metadata import entry_points

    from riverbed.errors import InvalidArgument

    found = [ep for ep in entry_points(group=LINE_TIMES) if ep.name == name]
    if not found:
        raise InvalidArgument(f"no installed app reads times from log lines ('{name}' in {LINE_TIMES})",
                              hint="install one (riverbed's logwatch adds it), or use --time-field for JSON")
    return found[0].load()()


def run_replay(args: argparse.Namespace) -> int:
    from riverbed.connectors import ReplaySource

    source = ReplaySource(
        args.file,
        time_field=args.time_field,
        event_time=line_time_reader() if args.log_times else None,  # one reader per file: its layout
        speed=args.speed,
        loop=args.loop,
        rebase=args.loop,
    )
    how = (
        f"at {args.speed:g}x" if args.speed else f"at {args.rate:g}/s" if args.rate else "as fast as possible"
    )
    return run_source(args, source, f"replaying {args.file} {how}{', looping' if args.loop else ''}")


def run_synthetic(args: argparse.Namespace) -> int:
    from riverbed.connectors import FORMATS, SyntheticLogs

    formats = [f.strip() for f in args.formats.split(",")] if args.formats else list(FORMATS)
    source = SyntheticLogs(args.seed, formats=formats, rate=args.rate)
    what = f"generating {','.join(formats)} logs at {args.rate:g}/s (seed {args.seed})"
    return run_source(args, source, what)


def run_source(args: argparse.Namespace, source, what: str) -> int:
    """Feed `source` into the topic with the common options; what every ingest kind (also the apps'
    kinds in MORE_KINDS) runs. Returns the exit status."""
    from riverbed.connectors import Ingestor, chain, key_from_regex, utf8_text
    from riverbed.log import TopicConfig

    decode = chain(
        utf8_text if args.utf8 else None, key_from_regex(args.key_regex) if args.key_regex else None
    )
    with opened_log(args) as log:
        if not log.exists(args.topic):
            log.ensure_topic(args.topic, TopicConfig(partitions=args.partitions))
            note(f"created topic {args.topic} ({args.partitions} partition(s))")
        ingestor = Ingestor(
            log,
            args.topic,
            batch_size=args.batch_size,
            linger_ms=args.linger_ms,
            rate=getattr(args, "rate", None),
            decode=decode,
            progress=_progress_printer(),
            progress_every_s=PROGRESS_EVERY_S,
        )
        note(f"ingest {source.name}: {what} -> {args.topic} in {mask_url(log.url)}")
        with stop_on_signals(ingestor.stop):
            stats = ingestor.run(source, duration=args.duration)
    note(f"done: {stats.line()}")
    if stats.rejected:
        reasons = "; ".join(f"{r} ({n})" for r, n in sorted(stats.reasons.items(), key=lambda x: -x[1])[:3])
        dlq = f"{args.topic}.dlq"
        note(f"rejected records are kept in {dlq} ({reasons}); see `riverbed consume {dlq}`")
    return 0


def _progress_printer() -> Callable:
    """A progress callback printing the stats line to stderr, only when something moved."""
    last = [-1]

    def show(stats) -> None:
        if stats.records_in != last[0]:
            last[0] = stats.records_in
            note(f"  {stats.line()}")

    return show


def stop_on_signals(stop: Callable[[], None]) -> contextlib.AbstractContextManager[None]:
    """While inside, SIGINT and SIGTERM call `stop()` (a clean finish) instead of interrupting; the
    CLI then exits 130 or 143 (riverbed.stopping)."""
    from riverbed.stopping import on_signals

    return on_signals(stop)
