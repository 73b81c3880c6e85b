"""`riverbed run`, `query` and `train` as a user types them (subprocesses; Spark starts in each run)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from riverbed.apps.logwatch.parse import parse_line
from riverbed.log import TopicConfig, open_log
from riverbed.timeutil import iso

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"


def riverbed(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "riverbed", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=300)


def test_run_batch_then_query(tmp_path: Path) -> None:
    lines = (DATA / "Hadoop_2k.log").read_text().splitlines()
    with open_log(home=tmp_path) as log:
        log.create_topic("logs", TopicConfig(partitions=2))
        log.append_values("logs", [ln.encode() for ln in lines])

    done = riverbed("run", "logwatch", "--mode", "batch", home=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{len(lines)} records, 0 unparsable" in done.stderr

    expected = Counter()
    for ln in lines:
        p = parse_line(ln)
        if p.level == "ERROR":
            expected[p.time - p.time % 10_000] += 1
    q = riverbed("query", "level_counts", "--where", "level=ERROR", "--json", home=tmp_path)
    assert q.returncode == 0, q.stderr
    rows = [json.loads(x) for x in q.stdout.splitlines()]
    assert {(r["window_start"], r["count"]) for r in rows} == {(iso(s), n) for s, n in expected.items()}
    assert all(r["window_end"].endswith("Z") and r["level"] == "ERROR" for r in rows)

    first = min(expected)
    since = riverbed("query", "level_counts", "--where", "level=ERROR", "--since", iso(first + 10_000),
                     "--json", home=tmp_path)
    assert len(since.stdout.splitlines()) == len(expected) - 1

    listed = riverbed("query", home=tmp_path)
    assert {"level_counts", "component_counts", "top_errors", "alerts"} <= set(listed.stdout.split())

    top = riverbed("query", "top_errors", "--order", "count:desc", "--limit", "2", "--json", home=tmp_path)
    counts = [json.loads(x)["count"] for x in top.stdout.splitlines()]
    assert len(counts) == 2 and counts[0] >= counts[1], top.stderr


def test_pipeline_commands_reject_bad_input_in_one_line(tmp_path: Path) -> None:
    cases = [
        (["run", "nope"], "no app or module named 'nope'"),
        (["run", "logwatch", "--trigger", "soon"], "cannot read 'soon' as a duration"),
        (["query", "nope"], "no output named 'nope'"),
        (["run", "logwatch", "--mode", "batch", "--topic", "nope"], "topic 'nope' does not exist"),
        (["run", "logwatch", "--mode", "batch", "--source", "lake"], "the lake has no data for logwatch"),
        (["run", "logwatch", "--latency-target", "20ms"], "--latency-target 20ms: needs at least 100ms"),
        (["run", "logwatch", "--latency-target", "1s", "--available-now"], "applies to --mode stream"),
        (["bench", "ysb", "--ramp", "fast", "--out", str(tmp_path / "b")], "--ramp 'fast' is not LO:HI"),
        (["bench", "ysb", "--ramp", "1:2", "--modes", "trigger", "--out", str(tmp_path / "b")],
         "--modes entry 'trigger' is not trigger:DURATION"),
    ]
    # a store with one output, so the query errors below are about the query itself
    from riverbed.store import OutputSpec, SqliteStore

    SqliteStore(tmp_path / "serving.db").ensure_output(
        "p", OutputSpec("level_counts",
                        [("window_start", "INTEGER"), ("level", "TEXT"), ("count", "INTEGER")],
                        ["window_start", "level"], {"count": "sum"}, ["window_start"]))
    cases += [
        (["query", "level_counts", "--where", "level"], "is not COL=VALUE"),
        (["query", "level_counts", "--where", "lvl=1; DROP TABLE x"], "has no column 'lvl'"),
        (["query", "level_counts", "--since", "yesterday"], "cannot read 'yesterday' as a time"),
    ]
    for args, message in cases:
        out = riverbed(*args, home=tmp_path)
        assert out.returncode == (2 if args == ["run", "nope"] else 1), (args, out.stderr)  # 2: a bad app ref
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, out.stderr)
        assert "Traceback" not in out.stderr
