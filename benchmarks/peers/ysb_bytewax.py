"""The YSB query on Bytewax 0.21.1 (run with the peers venv's python), reading a Kafka topic.

    .venv-peers/bin/python benchmarks/peers/ysb_bytewax.py --bootstrap H:P --topic T \
        --mapping MAP.json --out ROWS.jsonl [--expect N]

Dataflow: bytewax.connectors.kafka.KafkaSource (partition assignment, from the beginning, 1,000
messages per poll) -> parse JSON, keep views, ad -> campaign (filter_map) -> `stateful_batch`
keyed by campaign_id: a 10 s tumbling event-time window count with a watermark of
max event time - grace (60 s). How it emits: once per (campaign, window) per input batch whose
events changed that window's count, the new total (an upsert, as YSB's Flink/Spark write Redis).
Bytewax's own window operators (`count_window` with an EventClock) emit only when a window closes,
i.e. after the 60 s grace has passed, so the YSB latency would be >= 60 s by construction; the
stateful operator gives the same counts with an update per batch instead. The sink keeps the
latest count and the wall-clock ms of its last update per window (in process).
Runs one worker in this process (`bytewax.testing.run_main`, what `python -m bytewax.run` does
with one worker). Stops once `--expect` events (or the harness's `EXPECT n`) are processed, or
after `--idle-timeout` s without input.
"""

from __future__ import annotations

import json

from bytewax import operators as op
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Dataflow
from bytewax.inputs import StatefulSourcePartition
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main
from peer_common import WINDOW_MS, Tracker, load_mapping, parse_args


class _StoppablePartition(StatefulSourcePartition):
    """Wraps Bytewax's Kafka source partition: ends the input when the tracker says stop."""

    def __init__(self, inner, tracker: Tracker) -> None:
        self.inner, self.tracker = inner, tracker

    def next_batch(self):
        if self.tracker.stop.is_set():
            raise StopIteration
        return self.inner.next_batch()

    def next_awake(self):
        return self.inner.next_awake()

    def snapshot(self):
        return self.inner.snapshot()

    def close(self) -> None:
        self.inner.close()


class YsbKafkaSource(KafkaSource):
    """Bytewax's KafkaSource that prints READY once its partition consumer is assigned."""

    def __init__(self, tracker: Tracker, **kw) -> None:
        super().__init__(**kw)
        self.tracker = tracker

    def build_part(self, step_id, for_part, resume_state):
        part = super().build_part(step_id, for_part, resume_state)
        print("READY", flush=True)
        return _StoppablePartition(part, self.tracker)


class WindowCount(StatefulBatchLogic):
    """Per campaign: count per 10 s tumbling event-time window, updates once per input batch."""

    def __init__(self, grace_ms: int) -> None:
        self.grace_ms = grace_ms
        self.counts: dict[int, int] = {}
        self.max_ts: int | None = None

    def on_batch(self, values):
        touched: dict[int, int] = {}  # window start -> views counted now
        watermark = None if self.max_ts is None else self.max_ts - self.grace_ms
        for t in values:
            if watermark is not None and t < watermark:
                continue  # later than the allowed lateness: dropped, like Spark's watermark
            start = t - t % WINDOW_MS
            self.counts[start] = self.counts.get(start, 0) + 1
            touched[start] = touched.get(start, 0) + 1
            if self.max_ts is None or t > self.max_ts:
                self.max_ts = t
        out = [(start, self.counts[start], n) for start, n in touched.items()]
        watermark = self.max_ts - self.grace_ms
        for start in [s for s in self.counts if s + WINDOW_MS < watermark]:
            del self.counts[start]  # the window can no longer change: forget it
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self):
        return (dict(self.counts), self.max_ts)


class _TrackerPartition(StatelessSinkPartition):
    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def write_batch(self, items) -> None:
        for campaign, (start, count, views) in items:
            self.tracker.on_update(campaign, start, count, views)


class TrackerSink(DynamicSink):
    """The result table (in process): latest count and updated_ms per (campaign, window)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def build(self, step_id, worker_index, worker_count):
        return _TrackerPartition(self.tracker)


def build_flow(args, tracker: Tracker, mapping: dict[str, str]) -> Dataflow:
    """The YSB dataflow described in the module docstring."""
    flow = Dataflow("ysb")
    src = YsbKafkaSource(tracker, brokers=[args.bootstrap], topics=[args.topic], tail=True)
    msgs = op.input("kafka", flow, src)

    def view(msg):
        e = json.loads(msg.value)
        is_view = e["event_type"] == "view"
        tracker.on_input(1, int(is_view))
        if not is_view:
            return None
        return mapping[e["ad_id"]], int(e["event_time"])

    views = op.filter_map("views", msgs, view)
    counts = op.stateful_batch("count", views, lambda _resume: WindowCount(args.grace_ms))
    op.output("results", counts, TrackerSink(tracker))
    return flow


def main() -> None:
    args = parse_args("bytewax")
    mapping = load_mapping(args.mapping)
    tracker = Tracker(args.expect, args.idle_timeout)
    flow = build_flow(args, tracker, mapping)
    tracker.start_reporting()
    run_main(flow)
    tracker.finish(args.out, "bytewax")


if __name__ == "__main__":
    main()
