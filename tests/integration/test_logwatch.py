"""logwatch end to end on real Spark: the stream over the log, the batch over the log and over the
lake, and an independent plain-Python count must all agree; bad and late lines are dead-lettered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from riverbed.apps.logwatch.parse import current_year, parse_line
from riverbed.apps.logwatch.templates import mask
from riverbed.dlq import dlq_topic
from riverbed.errors import LogParseError
from riverbed.log import Record, TopicConfig, open_log
from riverbed.pipeline.runner import Runner

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"
OUTPUTS = ["level_counts", "component_counts", "top_errors", "component_errors"]
W10, W60 = 10_000, 60_000


def sample_lines() -> list[str]:
    """Lines of several real formats, in event-time order (so none is late), ~2,400 lines."""
    lines: list[str] = []
    for name in ("Hadoop_2k.log", "HDFS_2k.log", "OpenSSH_2k.log"):
        lines += (DATA / name).read_text(encoding="utf-8").splitlines()[:800]
    year = current_year()
    return sorted(lines, key=lambda ln: parse_line(ln, default_year=year).time)


def expected_outputs(lines: list[str]) -> dict[str, list[dict]]:
    """The four outputs computed in plain Python, independently of Spark."""
    year = current_year()
    level, comp, top, comp_err = Counter(), Counter(), Counter(), Counter()
    for ln in lines:
        try:
            p = parse_line(ln, default_year=year)
        except LogParseError:
            continue
        t = p.time
        level[(t - t % W10, p.level)] += 1
        # 1 min windows sliding every 10 s: every window start s with s <= t < s + 60 s
        first = t - t % W10 - W60 + W10
        for s in range(first, t + 1, W10):
            comp[(s, p.component)] += 1
        if p.level in ("ERROR", "FATAL"):
            top[(t - t % W60, mask(p.message))] += 1
            comp_err[(t - t % W60, p.component)] += 1

    def rows(counter: Counter, key: str, width: int) -> list[dict]:
        out = [{"window_start": s, "window_end": s + width, key: k, "count": n}
               for (s, k), n in counter.items()]
        return sorted(out, key=lambda r: (r["window_start"], r["window_end"], r[key]))

    return {
        "level_counts": rows(level, "level", W10),
        "component_counts": rows(comp, "component", W60),
        "top_errors": rows(top, "template", W60),
        "component_errors": rows(comp_err, "component", W60),
    }


def outputs(runner: Runner) -> dict[str, list[dict]]:
    return {n: runner.store.rows(n) for n in OUTPUTS}


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return sample_lines()


@pytest.fixture(scope="module")
def expected(lines: list[str]) -> dict[str, list[dict]]:
    return expected_outputs(lines)


def fill(url: str, lines: list[str], extra: list[bytes] = (), partitions: int = 1) -> None:
    with open_log(url) as log:
        log.create_topic("logs", TopicConfig(partitions=partitions))
        values = [ln.encode() for ln in lines] + list(extra)
        for i in range(0, len(values), 500):  # several appends: records spread over partitions
            log.append_values("logs", values[i : i + 500])


def test_stream_equals_batch_equals_plain_python(spark, tmp_path: Path, lines, expected) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    # three partitions read in parallel; the sample spans years, so each micro-batch mixes times far
    # apart: a lateness bound of ~30 years keeps every line on time, as in the batch
    fill(url, lines, partitions=3)
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark, lateness_ms=10**12)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=700)
    handle.wait(300)
    assert len([s for s in handle.history if s.records]) >= 3, "expected several micro-batches"
    assert sum(s.records for s in handle.history) == len(lines)
    streamed = outputs(runner)
    for name in OUTPUTS:
        assert streamed[name] == expected[name], name
    assert sum(r["count"] for r in streamed["level_counts"]) == len(lines)
    kept = runner.store.metrics("logwatch")  # per micro-batch figures, for the dashboard
    assert [m["batch_id"] for m in kept] == [s.batch_id for s in handle.history]
    assert sum(m["records"] for m in kept) == len(lines)
    assert all(m["latency_p99_ms"] >= m["latency_p50_ms"] >= 0 for m in kept if m["records"])

    runner.batch(source="log")
    assert outputs(runner) == expected
    runner.batch(source="lake")  # the stream kept every parsed line in the lake
    assert outputs(runner) == expected


def test_restart_midway_resumes_exactly(spark, tmp_path: Path, lines, expected) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    fill(url, lines)
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(trigger_ms=0, max_records_per_trigger=400)
    import time

    deadline = time.monotonic() + 240
    while sum(1 for s in handle.history if s.records) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    handle.stop()
    done_before = sum(s.records for s in handle.history)
    assert 0 < done_before < len(lines), "stop should come midway"

    again = Runner("logwatch", log=url, home=tmp_path, spark=spark).start_stream(available_now=True)
    again.wait(300)
    assert done_before + sum(s.records for s in again.history if not s.skipped) == len(lines)
    assert outputs(runner) == expected


def test_bad_and_late_lines_go_to_the_dead_letter_topic(spark, tmp_path: Path, lines) -> None:
    """Undecodable and late lines are dead-lettered; lines without a time after a timed line join its
    record (issue 21: a blank or untimed line was dead-lettered as a bad line before)."""
    from riverbed.pipeline.sinks import read_lake

    url = f"embedded://{tmp_path / 'log'}"
    good = lines[:600]
    fill(url, good, extra=[b"", b"no time here at all", b"\xff\xfe binary \x00"])
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    runner.start_stream(available_now=True).wait(300)
    before = outputs(runner)
    assert sum(r["count"] for r in before["level_counts"]) == len(good)
    last = read_lake(spark, tmp_path, "logwatch").where("offset = 599").collect()
    assert [r["message"].split("\n")[-1] for r in last] == ["no time here at all"]

    # an hour older than anything seen: behind the 60 s watermark
    newest = parse_line(good[-1], default_year=current_year())
    old = good[0]
    assert newest.time - parse_line(old, default_year=current_year()).time > 120_000
    with open_log(url) as log:
        log.append("logs", [Record(old.encode(), partition=0), Record(good[-1].encode(), partition=0)])
    handle = runner.start_stream(available_now=True)
    handle.wait(300)
    assert sum(s.late for s in handle.history) == 1

    with open_log(url) as log:
        dead = [r for p in range(1) for r in log.read(dlq_topic("logs"), p, 0, 100)]
    reasons = [dict(r.headers)["riverbed.reason"].decode() for r in dead]
    assert len(dead) == 2
    assert dead[0].value == b"\xff\xfe binary \x00"
    assert reasons[0] == "not UTF-8 text (binary data)"
    assert reasons[-1].startswith("late: event time")
    assert dead[-1].value == old.encode()
    assert all(dict(r.headers)["riverbed.source"] == b"pipeline:logwatch" for r in dead)
    # the late line was not counted; the on-time one was
    after = outputs(runner)
    counted = [sum(r["count"] for r in rows["level_counts"]) for rows in (before, after)]
    assert counted[1] == counted[0] + 1
    state = runner.store.state("logwatch")
    assert state["dead_letters_parse"] == 1 and state["dead_letters_late"] == 1


def test_lines_without_time_are_counted_at_their_log_time(spark, tmp_path: Path) -> None:
    """issue 21: a source whose lines state no time is counted at the log append time, never dropped;
    a stack trace cut by micro-batches is counted once."""
    import time

    from riverbed.pipeline.sinks import read_lake

    url = f"embedded://{tmp_path / 'log'}"
    plain = ["service started", "disk almost full", "worker 3 stopped"]
    trace = ["java.lang.IllegalStateException: boom", "\tat a.B.c(B.java:1)", "\tat a.B.d(B.java:2)"]
    t0 = time.time_ns() // 1_000_000
    fill(url, plain + trace)
    t1 = time.time_ns() // 1_000_000
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=4)
    handle.wait(300)
    # 4 lines, then 2 (the trace cut after its first line): 3 records (one joined), then 1 flagged row
    assert [s.records for s in handle.history if s.records] == [3, 1]
    assert sum(s.bad for s in handle.history) == 0
    levels: dict[str, int] = {}
    for r in runner.store.rows("level_counts"):
        assert t0 - W10 < r["window_start"] <= t1
        levels[r["level"]] = levels.get(r["level"], 0) + r["count"]
    assert levels == {"INFO": 3}  # 3 records; the trace continues the third, counted once
    lake = read_lake(spark, tmp_path, "logwatch").orderBy("offset").collect()
    assert [(r["offset"], r["time_source"], r["continuation"]) for r in lake] == [
        (0, "log", False), (1, "log", False), (2, "log", False), (4, "log", True)]
    assert lake[2]["message"] == "worker 3 stopped\njava.lang.IllegalStateException: boom"
    assert lake[-1]["message"] == "\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)"


def test_driver_killed_with_sigkill_then_restarted(spark, tmp_path: Path, lines, expected) -> None:
    """`riverbed run` in its own process group, killed -9 mid-stream; a restart finishes the job."""
    import os
    import signal
    import subprocess
    import sys
    import time

    url = f"embedded://{tmp_path / 'log'}"
    fill(url, lines)
    cmd = [sys.executable, "-m", "riverbed", "run", "logwatch", "--mode", "stream", "--trigger", "0",
           "--max-records-per-trigger", "300", "--home", str(tmp_path), "--log", url, "--master", "local[1]"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            last = runner.store.last_batch("logwatch")
            if last is not None and last >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        os.killpg(proc.pid, signal.SIGKILL)  # the driver: python and its JVM
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    applied = runner.store.state("logwatch")["records"]
    assert 0 < applied < len(lines), "the kill should come midway"

    handle = runner.start_stream(available_now=True)
    handle.wait(300)
    assert outputs(runner) == expected
    assert runner.store.state("logwatch")["records"] == len(lines)


def test_baseline_learned_over_the_lake_raises_alerts(spark, tmp_path: Path, lines) -> None:
    """`train` learns mean + k*stddev of errors per 1 min window per component; alerts are the
    windows above it. Both checked against a plain-Python computation."""
    from riverbed.apps.logwatch.baseline import train_baseline

    url = f"embedded://{tmp_path / 'log'}"
    fill(url, lines)
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    runner.start_stream(available_now=True).wait(300)
    assert runner.store.rows("alerts") == []  # nothing learned yet: no alerts

    k = 1.0
    trained = {r["component"]: r for r in train_baseline(spark, tmp_path, runner.store, k=k)}

    year = current_year()
    parsed = [parse_line(ln, default_year=year) for ln in lines]
    lo, hi = min(p.time for p in parsed), max(p.time for p in parsed)
    n_windows = hi // W60 - lo // W60 + 1
    errors = Counter((p.component, p.time - p.time % W60) for p in parsed if p.level in ("ERROR", "FATAL"))
    per_comp: dict[str, list[int]] = {}
    for (comp, _), n in errors.items():
        per_comp.setdefault(comp, []).append(n)
    assert set(trained) == set(per_comp)
    expected_alerts = []
    for comp, counts in per_comp.items():
        mean = sum(counts) / n_windows
        std = (sum(c * c for c in counts) / n_windows - mean * mean) ** 0.5
        assert trained[comp]["baseline"] == pytest.approx(mean + k * std)
        expected_alerts += [
            (w, comp, n) for (c, w), n in errors.items() if c == comp and n > mean + k * std
        ]
    alerts = [(a["window_start"], a["component"], a["count"]) for a in runner.store.rows("alerts")]
    assert expected_alerts, "the sample should have error bursts above the baseline"
    assert sorted(alerts) == sorted(expected_alerts)
