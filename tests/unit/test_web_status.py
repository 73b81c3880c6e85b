"""The pipeline status rules (riverbed.web.platform_view.progress): what the badge says, from the
micro-batch metrics, the lag and the input rate."""

from __future__ import annotations

import time
from pathlib import Path

from riverbed.log import Record, TopicConfig, open_log
from riverbed.store import open_store
from riverbed.web.platform_view import consume_rate, pipeline_summary, progress

NOW = 1_700_000_000_000


def batches(n: int, every_ms: int, records: int, last_ms: int = NOW - 1_000,
            seconds: float = 0.8) -> list[dict]:
    """n micro-batch rows, oldest first, the last at last_ms."""
    return [{"batch_id": i, "at_ms": last_ms - (n - 1 - i) * every_ms, "records": records, "seconds": seconds}
            for i in range(n)]


def status(rows: list[dict], lag: int | None, append_rate: float = 0.0, **kw) -> dict:
    """progress() with a stream checkpoint and outputs unless told otherwise."""
    opts = {"has_outputs": True, "has_checkpoint": True, "recorded_ms": NOW - 10_000, "state": {}, **kw}
    return progress(rows, lag, append_rate, NOW, **opts)


def test_consume_rate_spans_the_recent_batches() -> None:
    assert consume_rate(batches(5, 2_000, 10_000)) == 5_000.0  # 4 x 10,000 records over 8 s
    assert consume_rate(batches(1, 2_000, 1_600, seconds=0.8)) == 2_000.0  # one batch: its own rate
    assert consume_rate([]) is None


def test_a_large_lag_with_recent_batches_is_catching_up_with_an_eta() -> None:
    p = status(batches(5, 2_000, 10_000), 180_000, append_rate=1_000.0)
    assert p["status"] == "catching up"
    assert p["eta_s"] == 45  # 180,000 / (5,000 - 1,000)
    assert p["detail"] == "180,000 behind at 5,000 records/s, ETA 45 s"


def test_not_gaining_on_the_input_has_no_eta() -> None:
    p = status(batches(5, 2_000, 1_000), 180_000, append_rate=900.0)  # 500/s consumed, 900/s arriving
    assert p["status"] == "catching up" and p["eta_s"] is None and "not gaining" in p["detail"]


def test_a_lag_of_a_few_seconds_of_input_is_live() -> None:
    assert status(batches(5, 2_000, 2_000), 2_500, append_rate=1_000.0)["status"] == "live"
    assert status(batches(5, 2_000, 2_000), 0)["status"] == "live"


def test_no_batch_yet() -> None:
    assert status([], 180_000)["status"] == "starting"
    assert "180,000 records waiting" in status([], 180_000)["detail"]
    assert status([], 5, recorded_ms=NOW - 3_600_000)["status"] == "stalled"
    assert status([], None, has_checkpoint=False)["status"] == "idle"  # ran in batch
    assert status([], None, has_checkpoint=False, has_outputs=False)["status"] == "not running"


def test_no_batch_for_a_while() -> None:
    old, started = batches(5, 2_000, 100, last_ms=NOW - 120_000), NOW - 3_600_000
    stalled = status(old, 5_000, recorded_ms=started)
    assert stalled["status"] == "stalled"
    assert stalled["detail"] == "5,000 records waiting, no micro-batch for 2.0 min"
    assert status(old, 0, recorded_ms=started)["status"] == "idle"
    # a slow catch-up batch (40 s) is not a stall until 3 times that has passed
    slow = batches(2, 45_000, 180_000, last_ms=NOW - 60_000, seconds=40.0)
    assert status(slow, 50_000)["status"] == "catching up"


def test_a_stream_restarted_after_a_quiet_spell_is_starting() -> None:
    old = batches(5, 2_000, 100, last_ms=NOW - 600_000)  # its last run ended 10 min ago
    assert status(old, 5_000, recorded_ms=NOW - 20_000)["status"] == "starting"  # started again 20 s ago
    assert status(old, 5_000, recorded_ms=NOW - 20_000, has_checkpoint=False)["status"] == "stalled"
    assert status(old, 5_000, recorded_ms=NOW - 900_000)["status"] == "stalled"


def test_a_recorded_error_after_the_last_batch_is_failed() -> None:
    rows = batches(3, 2_000, 100)
    p = status(rows, 10, state={"error": "CodeError: boom", "error_ms": NOW - 500})
    assert p["status"] == "failed" and p["detail"] == "CodeError: boom"
    assert status(rows, 10, state={"error": "old", "error_ms": NOW - 60_000})["status"] == "live"


def test_before_spark_plans_a_batch_the_whole_input_is_waiting(tmp_path: Path) -> None:
    """A stream whose checkpoint holds no offsets yet: its topics (from the catalogue) are all unread."""
    home = tmp_path / "home"
    (home / "checkpoints" / "clicks" / "stream").mkdir(parents=True)
    store = open_store(home=home)
    store.record_pipeline({"name": "clicks", "topics": ["clicks"], "outputs": [], "panels": []})
    with open_log(home=home) as log:
        log.create_topic("clicks", TopicConfig(partitions=2))
        log.append("clicks", [Record(b"x", key=str(i).encode()) for i in range(2_500)])
        s = pipeline_summary(store, log, home, "clicks", time.time_ns() // 1_000_000)
    assert s["lag"]["total"] == 2_500 and len(s["lag"]["partitions"]) == 2
    assert s["status"] == "starting"  # recorded just now, no micro-batch yet
    assert "2,500 records waiting" in s["detail"]
