"""`riverbed demo`: data in motion on one machine, with nothing to start.

Creates topic `logs` (4 partitions) in the embedded log under the home, then runs at once, until
Ctrl-C or --duration: a replay of recorded real data (a Spark event log shipped with riverbed,
looped at a steady rate), the synthetic server-log generator (HDFS, Hadoop, Spark, Apache, syslog
lines with error bursts), and a live tail printing every second the records/s coming in, the end
offset of each partition, the records seen per level, and a few sample lines.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from importlib import resources

from riverbed.cli._common import emit, note, opened_log, positive_int
from riverbed.cli.ingest import rate_arg, stop_on_signals

TOPIC = "logs"
EVENTLOG = "spark_eventlog_local-1532512550423.jsonl"
LEVELS = ("FATAL", "ERROR", "WARN", "NOTICE", "INFO", "EVENT", "OTHER")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `demo`."""
    p = subparsers.add_parser(
        "demo",
        help="run the live demo: replay + synthetic logs into topic 'logs', with a live summary",
        description=__doc__.split("\n\n", 1)[1],
        epilog="examples:\n  riverbed demo\n  riverbed demo --duration 30 --rate 1000/s --home /tmp/rb",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--rate", type=rate_arg, default=300.0, help="synthetic log lines/s (default: 300/s)")
    p.add_argument("--replay-rate", type=rate_arg, default=20.0, help="replayed events/s (default: 20/s)")
    p.add_argument("--seed", type=int, default=None, help="synthetic log seed (default: a new one each run)")
    p.add_argument("--partitions", type=positive_int, default=4, help="partitions of 'logs' (default: 4)")
    p.add_argument("--samples", type=int, default=2, metavar="N", help="sample lines shown per second")
    p.set_defaults(func=run)


def eventlog_path():
    """The packaged Spark event log (Apache-2.0, see riverbed/data/PROVENANCE.md)."""
    return resources.files("riverbed") / "data" / EVENTLOG


def level_of(value: bytes | None) -> str:
    """The level of a record seen by the demo: the log line's level, EVENT for JSON events."""
    from riverbed.connectors import parse_line

    if value is None:
        return "OTHER"
    if value[:1] == b"{":
        return "EVENT"
    parsed = parse_line(value)
    return parsed.level if parsed and parsed.level in LEVELS else "OTHER"


def run(args: argparse.Namespace) -> int:
    from riverbed.config import resolve_home
    from riverbed.connectors import Ingestor, ReplaySource, SyntheticLogs
    from riverbed.log import TopicConfig

    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    with opened_log(args) as log:
        info = log.ensure_topic(TOPIC, TopicConfig(partitions=args.partitions))
        path = eventlog_path()
        ingestors = {
            "replay": (
                Ingestor(log, TOPIC, rate=args.replay_rate, linger_ms=100),
                ReplaySource(str(path), loop=True),
            ),
            "synthetic": (
                Ingestor(log, TOPIC, rate=args.rate, linger_ms=100),
                SyntheticLogs(seed, key_by="component"),
            ),
        }
        note("riverbed demo: data in motion, embedded, nothing to start")
        note(
            f"  log:    {log.url}"
            + (f"  (home {resolve_home(args.home)})" if log.url.startswith("embedded") else "")
        )
        note(f"  topic:  {TOPIC} ({info.config.partitions} partitions)")
        note(f"  in:     replay of a real Spark event log ({EVENTLOG}, looped) at {args.replay_rate:g}/s")
        note(f"          + synthetic HDFS/Hadoop/Spark/Apache/syslog lines at {args.rate:g}/s (seed {seed})")
        note(
            "  out:    a live summary every second"
            + (f", for {args.duration:g}s" if args.duration else "; Ctrl-C stops")
        )

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

        threads = [
            threading.Thread(target=drive, args=pair, name=f"demo-{name}", daemon=True)
            for name, pair in ingestors.items()
        ]
        consumer = log.consumer(TOPIC, start="latest")
        levels: Counter[str] = Counter()
        seen = 0
        started = time.monotonic()
        with stop_on_signals(stop_all):
            for t in threads:
                t.start()
            try:
                seen = _tail(log, consumer, levels, stop, started, args)
            finally:
                stop_all()
                for t in threads:
                    t.join(timeout=10)
        if errors:
            raise errors[0]
        ends = _ends(log, info.config.partitions)
        elapsed = time.monotonic() - started
        note(
            f"demo stopped after {elapsed:.1f}s: {seen:,} records seen by the live tail; "
            f"{TOPIC} end offsets {_fmt_ends(ends)} ({sum(ends):,} records in total)"
        )
        for name, (ingestor, _) in ingestors.items():
            note(f"  {name:9s} {ingestor.stats.line()}")
        note(f"  levels    {_fmt_levels(levels)}")
        note(f"the data stays in {log.url}: try `riverbed consume {TOPIC} --from beginning --max 5`")
    return 0


def _tail(
    log, consumer, levels: Counter[str], stop: threading.Event, started: float, args: argparse.Namespace
) -> int:
    """Read what arrives, print the rolling summary each second; returns the records seen."""
    partitions = log.describe(TOPIC).config.partitions
    seen, samples = 0, []
    last_ends = _ends(log, partitions)
    last_tick, next_tick = started, started + 1.0
    deadline = started + args.duration if args.duration else None
    while not stop.is_set():
        for r in consumer.poll(max_records=5000, timeout=0.1):
            seen += 1
            levels[level_of(r.value)] += 1
            if len(samples) < args.samples and seen % 53 == 1:
                samples.append(r)
        now = time.monotonic()
        if now >= next_tick:
            ends = _ends(log, partitions)
            rate = (sum(ends) - sum(last_ends)) / max(now - last_tick, 1e-3)
            last_ends, last_tick, next_tick = ends, now, max(next_tick + 1.0, now + 0.5)
            head = f"[{now - started:5.1f}s] in {rate:6,.0f}/s"
            emit(f"{head} | end offsets {_fmt_ends(ends)} | {_fmt_levels(levels)}")
            sys.stdout.flush()
            for r in samples:
                text = (r.value or b"").decode("utf-8", "replace")
                emit(f"    p{r.partition}@{r.offset}: {text[:140]}{'…' if len(text) > 140 else ''}")
            samples = []
        if deadline is not None and now >= deadline:
            break
    return seen


def _ends(log, partitions: int) -> list[int]:
    return [log.offsets(TOPIC, p)[1] for p in range(partitions)]


def _fmt_ends(ends: list[int]) -> str:
    return " ".join(f"p{p}={e:,}" for p, e in enumerate(ends))


def _fmt_levels(levels: Counter[str]) -> str:
    return " ".join(f"{lv} {levels[lv]:,}" for lv in LEVELS if levels[lv]) or "(nothing yet)"
