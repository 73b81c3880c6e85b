"""The YSB query on Quix Streams 3.28.1 (run with the peers venv's python), reading a Kafka topic.

    .venv-peers/bin/python benchmarks/peers/ysb_quix.py --bootstrap H:P --topic T \
        --mapping MAP.json --out ROWS.jsonl [--expect N]

StreamingDataFrame: JSON values with event_time as the message timestamp (timestamp_extractor) ->
keep views -> ad -> campaign -> `group_by("campaign_id")` (Quix's re-keying: through its own
repartition topic) -> `tumbling_window(10_000, grace_ms=60_000).count().current()`, which emits the
window's new count for every view it counts -> a callback that keeps the latest count and the
wall-clock ms of its last update per (campaign, window) in process. Quix defaults otherwise:
consumer group, RocksDB state with changelog topics, at-least-once, commit every 5 s.
Stops once `--expect` events (or the harness's `EXPECT n`) are processed, or after
`--idle-timeout` s without input.

Tansu and topic configs: Quix reads each topic's `retention.ms`/`retention.bytes` with
DescribeConfigs to derive the configs of the repartition and changelog topics it creates
(TopicManager.derive_topic_config indexes `extra_config["retention.ms"]`). Tansu returns the
configs a topic was created with and nothing else, so the harness creates the input topic through
riverbed's Kafka log, which always passes explicit retention.ms/retention.bytes (-1: unlimited).
For a topic created without configs (e.g. by a plain AdminClient) Tansu's DescribeConfigs returns
nothing and Quix stops with KeyError 'retention.ms' (checked); so `inspect_topics` is wrapped below
to fill in Kafka's defaults (-1 = unlimited), which is what a Kafka broker would report.
"""

from __future__ import annotations

import logging
import tempfile

from peer_common import Tracker, load_mapping, parse_args
from quixstreams import Application
from quixstreams.models.topics.admin import TopicAdmin

KAFKA_DEFAULTS = {"retention.ms": "-1", "retention.bytes": "-1"}
_inspect = TopicAdmin.inspect_topics


def _inspect_with_defaults(self, topic_names, timeout=30):
    """TopicAdmin.inspect_topics, with Kafka's defaults for configs the broker did not return."""
    configs = _inspect(self, topic_names, timeout=timeout)
    for cfg in configs.values():
        if cfg is not None:
            for k, v in KAFKA_DEFAULTS.items():
                cfg.extra_config.setdefault(k, v)
    return configs


TopicAdmin.inspect_topics = _inspect_with_defaults  # the Tansu workaround described above


class YsbApplication(Application):
    """Quix's Application that prints READY once the consumer got its partitions."""

    def _on_assign(self, consumer, topic_partitions) -> None:
        super()._on_assign(consumer, topic_partitions)
        if topic_partitions:
            print("READY", flush=True)


def main() -> None:
    args = parse_args("quixstreams")
    mapping = load_mapping(args.mapping)
    tracker = Tracker(args.expect, args.idle_timeout)
    state_dir = tempfile.mkdtemp(prefix="ysb-quix-state-")
    app = YsbApplication(
        broker_address=args.bootstrap,
        consumer_group=f"ysb-quix-{args.topic}",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel=logging.WARNING,
        # Tansu holds a JoinGroup for about half the session timeout: the default 45 s would
        # delay the first assignment by ~23 s; 6 s makes it ~3 s (only start-up is affected)
        consumer_extra_config={"session.timeout.ms": 6000},
    )
    topic = app.topic(
        args.topic,
        value_deserializer="json",
        timestamp_extractor=lambda value, headers, ts, ts_type: int(value["event_time"]),
    )
    sdf = app.dataframe(topic)

    def view(e: dict) -> bool:
        is_view = e["event_type"] == "view"
        tracker.on_input(1, int(is_view))
        return is_view

    sdf = sdf.filter(view)
    sdf = sdf.apply(lambda e: {"campaign_id": mapping[e["ad_id"]], "event_time": e["event_time"]})
    sdf = sdf.group_by("campaign_id")
    sdf = sdf.tumbling_window(10_000, grace_ms=args.grace_ms).count().current()

    def record(w: dict, key, timestamp, headers) -> None:
        campaign = key.decode() if isinstance(key, bytes) else key
        tracker.on_update(campaign, w["start"], w["value"], 1)

    sdf = sdf.update(record, metadata=True)
    tracker.start_reporting(on_stop=app.stop)
    app.run()
    tracker.finish(args.out, "quixstreams")


if __name__ == "__main__":
    main()
