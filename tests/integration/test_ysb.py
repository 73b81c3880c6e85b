"""YSB on real Spark: the stream (several micro-batches) and the batch over the log each equal YSB's
`-c` check, a plain-Python count over the generated events; events later than the pipeline's
lateness are dead-lettered by the stream (and the expectation accounts for exactly those)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from riverbed.apps.ysb.generator import EVENT_TYPES, WINDOW_MS, YsbGenerator, expected_counts
from riverbed.log import TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.testing import read_topic

SEED, N, RATE, LATENESS = 5, 6_000, 200.0, 5_000
T0 = 1_700_000_000_000
BAD = [b"not json", b'{"ad_id": "x", "event_type": "view", "event_time": "soon"}', b"", b"[1, 2]",
       b'{"ad_id": "x", "event_type": "view"}']


def test_generator_is_ysb_shaped_and_deterministic() -> None:
    a, b = YsbGenerator(SEED, skew=True, late_every=50), YsbGenerator(SEED, skew=True, late_every=50)
    assert a.mapping_rows() == b.mapping_rows() and len(set(a.ad_to_campaign.values())) == 100
    ea, eb = list(a.events(T0, RATE, 2000)), list(b.events(T0, RATE, 2000))
    assert ea == eb
    assert YsbGenerator(SEED + 1).campaigns != a.campaigns
    first = json.loads(ea[0].value)
    assert list(first) == ["user_id", "page_id", "ad_id", "ad_type", "event_type", "event_time", "ip_address"]
    assert all(isinstance(v, str) for v in first.values())
    assert {e.event_type for e in ea} == set(EVENT_TYPES)
    late = [e for e in ea if e.late]
    assert 10 <= len(late) <= 90  # ~1 in 50
    on_time = [(i, e) for i, e in enumerate(ea) if not e.late]
    assert all(abs(e.time_ms - (T0 + i * 5)) <= 50 for i, e in on_time)  # 200/s: 5 ms apart, +-50 ms
    assert all(0 < T0 + i * 5 - e.time_ms <= 60_050 for i, e in enumerate(ea) if e.late)


def stream_expectation(events, batch_sizes: list[int], lateness: int):
    """Replay the stream's watermark rule over the micro-batches: (counted events, dead-lettered late)."""
    kept, late, max_seen, i = [], [], None, 0
    for size in batch_sizes:
        chunk = events[i : i + size]
        i += size
        wm = None if max_seen is None else max_seen - lateness
        for e in chunk:
            (late if wm is not None and e.time_ms < wm else kept).append(e)
        if chunk:
            max_seen = max([e.time_ms for e in chunk] + ([max_seen] if max_seen is not None else []))
    return kept, late


def as_counts(rows: list[dict]) -> dict[tuple[str, int], int]:
    assert all(r["window_end"] - r["window_start"] == WINDOW_MS for r in rows)
    return {(r["campaign_id"], r["window_start"]): r["count"] for r in rows}


def test_stream_and_batch_equal_plain_python(spark, tmp_path: Path) -> None:
    gen = YsbGenerator(SEED, skew=True, late_every=100)
    events = list(gen.events(T0, RATE, N))
    url = f"embedded://{tmp_path / 'log'}"
    appended_from = time.time_ns() // 1_000_000
    with open_log(url) as log:
        log.create_topic("ad-events", TopicConfig(partitions=1))
        for lo in range(0, N, 1000):
            log.append_values("ad-events", [e.value for e in events[lo : lo + 1000]])
        log.append_values("ad-events", BAD)
    appended_to = time.time_ns() // 1_000_000

    runner = Runner("ysb", log=url, home=tmp_path, spark=spark, seed=SEED, lateness_ms=LATENESS)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=1500)
    handle.wait(240)
    sizes = [s.records for s in handle.history if s.records]
    assert len(sizes) >= 4 and sum(sizes) == N + len(BAD)
    kept, late = stream_expectation(events, sizes, LATENESS)
    assert len(late) >= 20, "the data must exercise the late path"
    assert sum(s.late for s in handle.history) == len(late)
    assert sum(s.bad for s in handle.history) == len(BAD)
    rows = runner.store.rows("ysb_counts")
    assert as_counts(rows) == expected_counts(kept, gen.ad_to_campaign)
    assert all(r["updated_ms"] >= T0 for r in rows)  # wall-clock update times, for YSB's latency
    # the records' ages in the log when their micro-batch landed (observed on the parsed rows, which
    # keep the log's timestamp, as the lake does): all were appended before the stream started
    done = time.time_ns() // 1_000_000
    timed = [s for s in handle.history if s.records]
    assert all(done - appended_from >= s.latency_p99_ms >= s.latency_p50_ms >= 0 for s in timed)
    lake = spark.read.parquet(str(tmp_path / "lake" / "ysb"))
    appended = lake.selectExpr("min(unix_millis(timestamp))", "max(unix_millis(timestamp))").first()
    assert lake.count() == N and appended_from <= appended[0] <= appended[1] <= appended_to
    with open_log(url) as log:
        dlq = read_topic(log, "ad-events.dlq")
    reasons = [dict(r.headers)["riverbed.reason"].decode() for r in dlq]
    assert sum(r.startswith("late:") for r in reasons) == len(late)
    assert sorted(r for r in reasons if r.startswith("ysb:")) == [
        "ysb: empty record", "ysb: event_time is not epoch ms: soon", "ysb: missing field(s) event_time",
        "ysb: not a JSON object with YSB's fields", "ysb: not a JSON object with YSB's fields"]

    result = runner.batch(source="log")  # the batch sees every event, late ones included
    assert result.bad == len(BAD)
    assert as_counts(runner.store.rows("ysb_counts")) == expected_counts(events, gen.ad_to_campaign)


def test_latency_target_steers_a_live_stream_and_counts_stay_exact(spark, tmp_path: Path) -> None:
    """A paced generator for ~4 s while the stream runs with a 1 s latency target: the controller
    decides after every micro-batch (pause, cap) through the admission file, and the counts equal
    YSB's -c check over everything written."""
    from riverbed.apps.ysb.measure import check, expected, first_event_ms
    from riverbed.apps.ysb.source import YsbSource
    from riverbed.connectors import Ingestor

    url = f"embedded://{tmp_path / 'log'}"
    with open_log(url) as log:
        log.create_topic("ad-events", TopicConfig(partitions=1))
        runner = Runner("ysb", log=url, home=tmp_path, spark=spark, seed=SEED)
        handle = runner.start_stream(latency_target_ms=1000)
        try:
            stats = Ingestor(log, "ad-events", batch_size=200, linger_ms=20).run(
                YsbSource(1500, seed=SEED), duration=4.0)
            for _ in range(120):
                if sum(s.records for s in handle.history) >= stats.written:
                    break
                handle.wait(0.5)
        finally:
            handle.stop()
        batches = [s for s in handle.history if s.records]
        assert sum(s.records for s in batches) == stats.written > 4000
        assert len(batches) >= 2 and all(s.pause_ms is not None for s in batches)
        assert 0 <= max(s.pause_ms for s in batches) <= 1000
        control = json.loads((tmp_path / "control" / "ysb.admission.json").read_text())
        assert control["not_before_ms"] is not None
        ok, wrong = check(runner.store.rows("ysb_counts"),
                          expected(SEED, first_event_ms(log, "ad-events"), 1500, stats.written))
    assert ok, f"{wrong} windows differ from YSB's -c check"
