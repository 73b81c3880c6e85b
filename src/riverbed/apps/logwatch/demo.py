"""`riverbed demo`: the logwatch app end to end on one machine, with nothing to start.

In the embedded log under the home, runs at once until Ctrl-C or --duration: the synthetic
server-log generator (HDFS, Hadoop, Spark, Apache, syslog lines with error bursts) into topic `logs`,
a replay of recorded real data (a Spark event log shipped with riverbed, looped) into topic
`spark-events`, and the logwatch streaming pipeline (Spark Structured Streaming over `logs`). Every
second it prints the input rate, the last micro-batch, the current window's counts per level, and
each alert as it fires. It starts by writing --history seconds of past logs; once the stream has
caught up with them, error baselines are learned in batch over the lake, and again every
--train-every seconds, as the Lambda batch layer would.
"""

from __future__ import annotations

import argparse
import threading
import time
from importlib import resources

from riverbed.cli.kit import (
    add_master_option,
    emit,
    non_negative_int,
    note,
    opened_log,
    positive_int,
    rate_arg,
    stop_on_signals,
)
from riverbed.log import mask_url

TOPIC = "logs"
EVENTS_TOPIC = "spark-events"
EVENTLOG = "spark_eventlog_local-1532512550423.jsonl"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `riverbed demo` (mounted by the CLI from the entry point `demo`: logwatch's live demo)."""
    p = subparsers.add_parser(
        "demo",
        help="run the live demo: logs in, the logwatch streaming pipeline, live counts and alerts",
        description=__doc__.split("\n\n", 1)[1],
        epilog="examples:\n  riverbed demo\n  riverbed demo --duration 60 --rate 1000/s --home /tmp/rb",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--rate", type=rate_arg, default=300.0, help="synthetic log lines/s (default: 300/s)")
    p.add_argument("--replay-rate", type=rate_arg, default=20.0, help="replayed events/s (default: 20/s)")
    p.add_argument("--seed", type=int, default=None, help="synthetic log seed (default: a new one each run)")
    p.add_argument("--partitions", type=positive_int, default=4, help="partitions of 'logs' (default: 4)")
    p.add_argument("--trigger", default="2s", help="micro-batch interval (default: 2s)")
    p.add_argument("--history", type=float, default=600.0, metavar="S",
                   help="first write S seconds of past logs, so baselines have data to learn from "
                   "(default: 600)")
    p.add_argument("--train-every", type=float, default=60.0, metavar="S",
                   help="relearn the error baselines over the lake every S seconds (default: 60)")
    p.add_argument("--no-pipeline", action="store_true", help="only ingest and tail; do not start Spark")
    add_master_option(p)
    p.add_argument("--port", type=non_negative_int, default=8050,
                   help="dashboard port on 127.0.0.1 (default: 8050; 0 picks a free one)")
    p.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    p.set_defaults(func=run)


def eventlog_path():
    """The packaged Spark event log (Apache-2.0, see riverbed/data/PROVENANCE.md)."""
    return resources.files("riverbed") / "data" / EVENTLOG


def run(args: argparse.Namespace) -> int:
    from riverbed.config import resolve_home
    from riverbed.connectors import Ingestor, ReplaySource, SyntheticLogs
    from riverbed.log import TopicConfig
    from riverbed.log.api import now_ms
    from riverbed.timeutil import parse_duration_ms

    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    home = resolve_home(args.home)
    with opened_log(args) as log:
        info = log.ensure_topic(TOPIC, TopicConfig(partitions=args.partitions))
        log.ensure_topic(EVENTS_TOPIC, TopicConfig(partitions=1))
        ingestors = {
            "synthetic": (Ingestor(log, TOPIC, rate=args.rate, linger_ms=100),
                          SyntheticLogs(seed, key_by="component")),
            "replay": (Ingestor(log, EVENTS_TOPIC, rate=args.replay_rate, linger_ms=100),
                       ReplaySource(str(eventlog_path()), loop=True)),
        }
        note("riverbed demo: data in motion, embedded, nothing to start")
        note(f"  log:      {mask_url(log.url)}  (home {home})")
        note(f"  in:       synthetic HDFS/Hadoop/Spark/Apache/syslog lines at {args.rate:g}/s into "
             f"'{TOPIC}' ({info.config.partitions} partitions, seed {seed})")
        note(f"            + replay of a real Spark event log ({EVENTLOG}, looped) at "
             f"{args.replay_rate:g}/s into '{EVENTS_TOPIC}'")
        if not args.no_pipeline:
            note(f"  pipeline: logwatch, Spark Structured Streaming over '{TOPIC}', trigger {args.trigger}; "
                 f"outputs in {home / 'serving.db'} (try `riverbed query level_counts`)")
        note("  Ctrl-C stops" + (f"; stopping by itself after {args.duration:g}s" if args.duration else ""))
        history = int(args.history * args.rate)
        if history:
            past = SyntheticLogs(seed + 1, count=history, key_by="component",
                                 start_ms=now_ms() - int(args.history * 1000), rate=args.rate)
            Ingestor(log, TOPIC).run(past)
            note(f"wrote {history:,} lines of the past {args.history:g}s into '{TOPIC}'")

        stop = threading.Event()
        errors: list[BaseException] = []

        def drive(ingestor: Ingestor, source) -> None:
            try:
                ingestor.run(source)
            except BaseException as e:  # shown by the main thread, which then stops the demo
                errors.append(e)
                stop.set()

        def stop_all() -> None:
            stop.set()
            for ingestor, _ in ingestors.values():
                ingestor.stop()

        threads = [threading.Thread(target=drive, args=pair, name=f"demo-{name}", daemon=True)
                   for name, pair in ingestors.items()]
        started = time.monotonic()
        live = dashboard = None
        for t in threads:
            t.start()
        try:
            if not args.no_pipeline:
                from riverbed.apps.logwatch.demo_live import LivePipeline

                # Spark first: PySpark installs its own SIGINT handler when it starts, ours goes on top
                live = LivePipeline(log.url, home, parse_duration_ms(args.trigger), args.master)
                note("starting Spark (a few seconds)...")
                live.start()
            dashboard = None if args.no_dashboard else _start_dashboard(home, log.url, args.port)
            with stop_on_signals(stop_all):
                _loop(log, live, stop, started, args, history)
        finally:
            stop_all()
            if dashboard is not None:
                dashboard.stop()
            if live is not None:
                live.stop()
            for t in threads:
                t.join(timeout=10)
        if errors:
            raise errors[0]
        ends = _ends(log, info.config.partitions)
        note(f"demo ran {time.monotonic() - started:.1f}s: {TOPIC} end offsets {_fmt_ends(ends)} "
             f"({sum(ends):,} records)")
        for name, (ingestor, _) in ingestors.items():
            note(f"  {name:9s} {ingestor.stats.line()}")
        if live is not None:
            note(f"  pipeline  {live.summary()}")
        note(f"the data stays in {home}: try `riverbed query alerts` or `riverbed consume {TOPIC} --max 5`")
    return 0


def _start_dashboard(home, log_url: str, port: int):
    """The dashboard in a thread on 127.0.0.1:PORT; a busy port is reported, not fatal to the demo."""
    from riverbed.errors import ConfigError
    from riverbed.web import serve_in_thread

    try:
        server = serve_in_thread(home=home, log=log_url, port=port)
    except ConfigError as e:
        note(f"dashboard: not started: {e} (or pass --no-dashboard)")
        return None
    note(f"dashboard: {server.url}")
    return server


def _loop(log, live, stop: threading.Event, started: float, args: argparse.Namespace, history: int) -> None:
    """Print a status line every second (and each new alert) until stopped or --duration is up."""
    partitions = log.describe(TOPIC).config.partitions
    last_ends, last_tick = _ends(log, partitions), started
    deadline = started + args.duration if args.duration else None
    next_train = None  # first: as soon as the stream has caught up with the history
    while not stop.wait(1.0):
        now = time.monotonic()
        ends = _ends(log, partitions)
        rate = (sum(ends) - sum(last_ends)) / max(now - last_tick, 1e-3)
        last_ends, last_tick = ends, now
        line = f"[{now - started:5.1f}s] in {rate:5,.0f}/s | {TOPIC} end {_fmt_ends(ends)}"
        if live is not None:
            line += " | " + live.status()
        emit(line)
        if live is not None:
            for alert in live.new_alerts():
                emit("    " + alert)
            due = live.records() >= history if next_train is None else now >= next_train
            if due:
                live.train_in_background()
                next_train = now + args.train_every
        if deadline is not None and now >= deadline:
            break


def _ends(log, partitions: int) -> list[int]:
    return [log.offsets(TOPIC, p)[1] for p in range(partitions)]


def _fmt_ends(ends: list[int]) -> str:
    return " ".join(f"p{p}={e:,}" for p, e in enumerate(ends))
