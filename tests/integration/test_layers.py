"""Lambda and Kappa on logwatch with real Spark: the merged answer equals a full recomputation at
several moments (across batch recomputes, and with a late record the batch layer corrects); a
reprocessed version catches up, switches, rolls back; readers in other processes never see an error
or a mixed answer meanwhile."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from riverbed.apps.logwatch.parse import current_year, parse_line
from riverbed.kappa import KappaError, reprocess, rollback, serving_version, switch, versions
from riverbed.layers import answer, run_batch_layer
from riverbed.log import Record, TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.store import open_store

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"
YEAR = current_year()


@pytest.fixture(scope="module")
def lines() -> list[str]:
    """~1,800 real lines of three formats in event-time order."""
    out: list[str] = []
    for name in ("Hadoop_2k.log", "HDFS_2k.log", "OpenSSH_2k.log"):
        out += (DATA / name).read_text().splitlines()[:600]
    return sorted(out, key=lambda ln: parse_line(ln, default_year=YEAR).time)


def level_counts(lines: list[str], width: int = 10_000) -> list[dict]:
    """logwatch's level_counts, computed in plain Python."""
    c = Counter()
    for ln in lines:
        t = parse_line(ln, default_year=YEAR)
        c[(t.time - t.time % width, t.level)] += 1
    return [{"window_start": s, "window_end": s + width, "level": lv, "count": n}
            for (s, lv), n in sorted(c.items())]


def component_counts(lines: list[str]) -> list[dict]:
    c = Counter()
    for ln in lines:
        t = parse_line(ln, default_year=YEAR)
        first = t.time - t.time % 10_000 - 50_000
        for s in range(first, t.time + 1, 10_000):
            c[(s, t.component)] += 1
    return [{"window_start": s, "window_end": s + 60_000, "component": k, "count": n}
            for (s, k), n in sorted(c.items())]


def append(url: str, lines: list[str]) -> None:
    with open_log(url) as log:
        log.ensure_topic("logs", TopicConfig(partitions=1))
        log.append_values("logs", [ln.encode() for ln in lines])


def test_merged_answer_equals_full_recomputation(spark, tmp_path: Path, lines) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    third = len(lines) // 3

    def check(upto: list[str]) -> None:
        assert answer("level_counts", home=tmp_path) == level_counts(upto)
        assert answer("component_counts", home=tmp_path) == component_counts(upto)

    append(url, lines[:third])
    runner.start_stream(available_now=True).wait(300)
    check(lines[:third])  # speed layer only

    # a cutoff in the middle of the data: sliding windows straddle it
    mid = parse_line(lines[third // 2], default_year=YEAR).time + 25_000
    res = run_batch_layer(runner, cutoff_ms=mid)
    before = sum(1 for ln in lines[:third] if parse_line(ln, default_year=YEAR).time < mid)
    assert res.generation == 1 and res.records == before
    assert res.origin == "--cutoff" and res.later == third - before  # the rest is the speed layer's
    check(lines[:third])

    append(url, lines[third: 2 * third])
    runner.start_stream(available_now=True).wait(300)
    check(lines[: 2 * third])  # new speed rows after the old cutoff
    res = run_batch_layer(runner)  # default cutoff: the stream's watermark
    assert res.generation == 2 and res.origin.startswith("the stream's watermark")
    assert res.records + res.later == 2 * third
    newest = max(parse_line(ln, default_year=YEAR).time for ln in lines[: 2 * third])
    assert res.cutoff_ms == (newest - 60_000) - (newest - 60_000) % 60_000  # lateness 60 s, to the minute
    check(lines[: 2 * third])

    # a record far behind the watermark: the stream dead-letters it, the lake keeps it, and the
    # next batch run counts it
    late = lines[0]
    append(url, [late, *lines[2 * third:]])
    runner.start_stream(available_now=True).wait(300)
    everything = [late, *lines]
    assert answer("level_counts", home=tmp_path) != level_counts(everything)
    run_batch_layer(runner)
    check(everything)
    # answers equal a batch recompute over the whole lake too
    merged = answer("level_counts", home=tmp_path)
    runner.batch(source="lake")
    assert runner.store.rows("level_counts") == merged


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from riverbed.layers import answer
    home, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    seen = []
    deadline = time.monotonic() + 240
    while not stop.exists() and time.monotonic() < deadline:
        try:
            rows = answer("level_counts", home=home)
            widths = sorted({r["window_end"] - r["window_start"] for r in rows})
            seen.append({"widths": widths, "total": sum(r["count"] for r in rows)})
        except Exception as e:  # any error is a failure of the serving layer
            seen.append({"error": f"{type(e).__name__}: {e}"})
        time.sleep(0.01)
    Path(out).write_text(json.dumps(seen))
    """
)


def test_kappa_reprocess_switch_rollback_with_readers_hammering(spark, tmp_path: Path, lines) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    append(url, lines)
    v1 = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    v1.start_stream(available_now=True).wait(300)
    assert answer("level_counts", home=tmp_path) == level_counts(lines)

    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(tmp_path), str(stop), str(tmp_path / f"r{i}.json")],
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    try:
        run_batch_layer(v1)  # a recompute while they read
        # v2: the changed code, 30 s windows, from the start of the log
        reprocess("logwatch", "v2", home=tmp_path, log=url, options={"level_window": "30 seconds"},
                  available_now=True, spark=spark)
        info = {v.version: v for v in versions("logwatch", home=tmp_path, log=url)}
        assert info["v1"].status == "serving" and info["v2"].status == "ready" and info["v2"].lag == 0

        switch("logwatch", "v2", home=tmp_path, log=url)
        assert serving_version("logwatch", home=tmp_path) == "v2"
        assert answer("level_counts", home=tmp_path) == level_counts(lines, 30_000)
        time.sleep(1.0)
        assert rollback("logwatch", home=tmp_path) == "v1"
        assert answer("level_counts", home=tmp_path) == level_counts(lines)
        time.sleep(1.0)
        switch("logwatch", "v2", home=tmp_path, log=url)
        time.sleep(1.0)
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=60)
    answers = [a for i in range(2) for a in json.loads((tmp_path / f"r{i}.json").read_text())]
    assert answers and not [a for a in answers if "error" in a], [a for a in answers if "error" in a][:3]
    assert {tuple(a["widths"]) for a in answers} == {(10_000,), (30_000,)}  # one version per answer
    assert {a["total"] for a in answers} == {len(lines)}

    # v2 lags once new records arrive: a switch back to it is refused until it catches up
    rollback("logwatch", home=tmp_path)
    with open_log(url) as log:
        log.append("logs", [Record(lines[-1].encode())])
    with pytest.raises(KappaError, match="lags 1 records"):
        switch("logwatch", "v2", home=tmp_path, log=url)
    switch("logwatch", "v2", home=tmp_path, log=url, force=True)
    assert serving_version("logwatch", home=tmp_path) == "v2"


def test_kappa_commands(spark, tmp_path: Path, lines) -> None:
    """versions / switch / rollback / drop as a user types them (none of them starts Spark)."""
    url = f"embedded://{tmp_path / 'log'}"
    append(url, lines[:300])
    Runner("logwatch", log=url, home=tmp_path, spark=spark).start_stream(available_now=True).wait(300)
    reprocess("logwatch", "v2", home=tmp_path, log=url, options={"level_window": "1 minute"},
              available_now=True, spark=spark)
    # each version's run recorded its own spec in its store's catalogue; the home's keeps v1's
    def title(store) -> str:
        return store.pipeline_spec("logwatch")["panels"][0]["title"]

    assert title(open_store(home=tmp_path)) == "lines per 10 seconds window, by level"
    assert title(open_store(home=tmp_path, version="v2")) == "lines per 1 minute window, by level"

    def rb(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "riverbed", *args, "--home", str(tmp_path), "--log", url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    out = rb("versions", "logwatch", "--json")
    assert [(v["version"], v["status"], v["lag"]) for v in map(json.loads, out.stdout.splitlines())] == [
        ("v1", "serving", 0), ("v2", "ready", 0)]
    bad = rb("switch", "logwatch", "v9")
    assert bad.returncode == 1 and "has no version 'v9'" in bad.stderr
    assert rb("drop", "logwatch", "v1").returncode == 1  # serving: refused
    assert rb("switch", "logwatch", "v2").returncode == 0
    minute = json.loads(rb("query", "level_counts", "--json", "--limit", "1").stdout)
    assert minute["window_end"] > minute["window_start"]
    assert rb("rollback", "logwatch").returncode == 0
    assert rb("switch", "logwatch", "v2").returncode == 0
    assert rb("drop", "logwatch", "v1").returncode == 0
    assert [v.version for v in versions("logwatch", home=tmp_path, log=url)] == ["v2"]
    assert not (tmp_path / "checkpoints" / "logwatch").exists()
    assert rb("rollback", "logwatch").returncode == 1  # v1 is gone: nothing to roll back to


def test_postgresql_store_serves_views_and_versions(spark, tmp_path: Path, lines, postgres_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The same Lambda and Kappa flow with the serving store on a real PostgreSQL server."""
    monkeypatch.setenv("RIVERBED_STORE", postgres_url)
    url = f"embedded://{tmp_path / 'log'}"
    half = len(lines) // 2
    append(url, lines[:half])
    runner = Runner("logwatch", log=url, home=tmp_path, spark=spark)
    assert type(runner.store).__name__ == "PostgresStore"
    runner.start_stream(available_now=True, max_records_per_trigger=400).wait(300)
    assert answer("level_counts", home=tmp_path) == level_counts(lines[:half])
    mid = parse_line(lines[half // 2], default_year=YEAR).time + 25_000
    run_batch_layer(runner, cutoff_ms=mid)
    append(url, lines[half:])
    runner.start_stream(available_now=True).wait(300)
    assert answer("level_counts", home=tmp_path) == level_counts(lines)
    assert answer("component_counts", home=tmp_path) == component_counts(lines)
    assert not (tmp_path / "serving.db").exists()  # nothing went to SQLite

    reprocess("logwatch", "v2", home=tmp_path, log=url, options={"level_window": "30 seconds"},
              available_now=True, spark=spark)
    switch("logwatch", "v2", home=tmp_path, log=url)
    assert answer("level_counts", home=tmp_path) == level_counts(lines, 30_000)
    rollback("logwatch", home=tmp_path)
    assert answer("level_counts", home=tmp_path) == level_counts(lines)
