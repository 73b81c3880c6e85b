"""The latency-target controller and the admission file it steers the log source with."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pyspark.sql.streaming.datasource import ReadAllAvailable

from riverbed.log import TopicConfig, open_log
from riverbed.pipeline.latency import BUDGET, LatencyController
from riverbed.spark.admission import AdmissionFile, write_admission
from riverbed.spark.options import Settings
from riverbed.spark.readers import LogStreamReader


def test_admission_file_round_trip_and_changes(tmp_path: Path) -> None:
    path = tmp_path / "c" / "a.json"
    reader = AdmissionFile(str(path))
    assert reader.current() == (None, None)
    write_admission(path, max_records=5000, not_before_ms=123)
    assert reader.current() == (5000, 123)
    write_admission(path, max_records=None, not_before_ms=4567)
    assert reader.current() == (None, 4567)
    path.write_text("{half a fi")  # a torn file keeps the last good decision
    assert reader.current() == (None, 4567)


def test_stream_reader_waits_for_not_before_and_takes_at_most_the_cap(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    with open_log(url) as log:
        log.create_topic("t", TopicConfig(partitions=2))
        log.append_values("t", [b"x"] * 300, partition=0)
        log.append_values("t", [b"y"] * 100, partition=1)
    control = tmp_path / "admission.json"
    settings = Settings.parse({"topic": "t", "log": url, "admissionControl": str(control)}, None, stream=True)
    reader = LogStreamReader(settings)
    start = {"t": {"0": 0, "1": 0}}
    everything = {"t": {"0": 300, "1": 100}}
    try:
        assert reader.latestOffset(start, ReadAllAvailable()) == everything  # no decision yet
        write_admission(control, max_records=None, not_before_ms=time.time_ns() // 1_000_000 + 60_000)
        assert reader.latestOffset(start, ReadAllAvailable()) == start  # not yet: no micro-batch
        write_admission(control, max_records=200, not_before_ms=time.time_ns() // 1_000_000 - 1)
        capped = reader.latestOffset(start, ReadAllAvailable())
        assert sum(capped["t"].values()) == 200 and capped["t"]["1"] == 100  # water-filled fairly
    finally:
        reader.stop()


def feed(c: LatencyController, n: int, seconds: float, p99: int | None, at: float):
    return c.after_batch(n, seconds, p99, at)


def test_pause_grows_under_the_budget_and_halves_over_the_target(tmp_path: Path) -> None:
    c = LatencyController(1000, tmp_path / "a.json")
    d1 = feed(c, 1000, 0.2, 300, 0.0)
    d2 = feed(c, 1000, 0.2, 300, 1.0)
    assert 0 < d1.pause_ms < d2.pause_ms <= 1000  # p99 well under 800 ms: longer pauses, bigger batches
    before = c.pause_ms
    d3 = feed(c, 1000, 0.2, 1500, 2.0)  # over the target: at least halved
    assert d3.pause_ms <= before / 2
    for i in range(20):
        d = feed(c, 1000, 0.2, 2500, 3.0 + i)
    assert d.pause_ms == 0  # persistently over: back to back
    on_disk = json.loads((tmp_path / "a.json").read_text())
    assert on_disk["max_records"] == d.max_records and on_disk["not_before_ms"] <= time.time_ns() // 1_000_000


def test_cap_from_the_fitted_cost_only_while_it_keeps_up(tmp_path: Path) -> None:
    c = LatencyController(1000, tmp_path / "a.json")
    # batches cost 0.1 s + 10 us per record; records arrive at 10,000/s
    t = 0.0
    for n in (2000, 4000, 6000, 3000):
        d = feed(c, n, 0.1 + n * 1e-5, 400, t)
        t += n / 10_000
    f, m = c.cost()
    assert abs(f - 0.1) < 1e-6 and abs(m - 1e-5) < 1e-9
    assert d.max_records == int((BUDGET * 1000 / 2000 - 0.1) / 1e-5)  # 30,000: fits half the budget
    # the same costs with records arriving at 100,000/s: a 30,000 cap (75,000/s) cannot keep up
    c2 = LatencyController(1000, tmp_path / "b.json")
    t = 0.0
    for n in (20000, 40000, 60000, 30000):
        d = feed(c2, n, 0.1 + n * 1e-5, 4000, t)
        t += n / 100_000
    assert d.max_records is None
