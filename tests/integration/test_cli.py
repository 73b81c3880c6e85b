"""The `riverbed` CLI run as users run it: a subprocess per command, over both log backends."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from riverbed.dlq import read_dead_letters
from riverbed.log import Log, LogRecord, Record, TopicConfig, partition_for
from riverbed.testing import read_topic

T2016 = 1467849600000  # 2016-07-07T00:00:00Z in epoch ms


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment whose riverbed home is a temp dir (never the developer's ./.riverbed)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("RIVERBED_")}
    e["RIVERBED_HOME"] = str(tmp_path / "home")
    return e


@pytest.fixture
def rb(log_url: str, env: dict[str, str]):
    """Run `riverbed ARGS --log <this test's log>`; returns the CompletedProcess (text mode)."""

    def run(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "riverbed", *args, "--log", log_url]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, env=env, timeout=timeout)

    return run


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr}"
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str, code: int | None = None) -> None:
    assert proc.returncode != 0, proc.stdout
    if code is not None:
        assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr




def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def by_position(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda d: (d["partition"], d["offset"]))


def as_doc(r: LogRecord) -> dict:
    def text(b):
        return None if b is None else b.decode("utf-8", "replace")

    return {"topic": r.topic, "partition": r.partition, "offset": r.offset, "key": text(r.key),
            "value": text(r.value), "timestamp": r.timestamp}


# -- topics ---------------------------------------------------------------------------------------


def test_topics_create_list_describe_delete(rb, log: Log, topic: str) -> None:
    out = ok(rb("topics", "create", topic, "--partitions", "3", "--retention-ms", "86400000")).stdout
    assert f"created topic {topic}: 3 partitions" in out
    assert log.describe(topic).config.partitions == 3

    listed = ok(rb("topics", "list")).stdout.splitlines()
    assert listed[0].split() == ["TOPIC", "PARTITIONS", "RECORDS", "BYTES"]
    assert [line.split()[:3] for line in listed if line.split()[0] == topic] == [[topic, "3", "0"]]

    log.append(topic, [Record(b"a", partition=0), Record(b"b", partition=2), Record(b"c", partition=2)])
    doc = json.loads(ok(rb("topics", "describe", topic, "--json")).stdout)
    assert doc["name"] == topic and doc["records"] == 3
    assert doc["config"]["partitions"] == 3 and doc["config"]["retention_ms"] == 86400000
    assert [(p["partition"], p["start_offset"], p["end_offset"]) for p in doc["partitions"]] == [
        (0, 0, 1), (1, 0, 0), (2, 0, 2)]
    assert doc["partitions"][2]["bytes"] > 0

    text = ok(rb("topics", "describe", topic)).stdout.splitlines()
    assert text[0].startswith(f"topic {topic}: 3 partitions") and text[0].endswith("3 records")
    assert text[1].split() == ["PARTITION", "START", "END", "RECORDS", "BYTES"]
    assert [line.split()[:4] for line in text[2:]] == [["0", "0", "1", "1"], ["1", "0", "0", "0"],
                                                       ["2", "0", "2", "2"]]

    assert ok(rb("topics", "delete", topic)).stdout.strip() == f"deleted topic {topic}"
    assert topic not in ok(rb("topics", "list")).stdout.split()
    assert not log.exists(topic)


def test_global_options_before_the_command_and_from_env(log_url: str, env: dict, topic: str) -> None:
    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "riverbed", *args], capture_output=True, text=True,
                              env={**env, **extra}, timeout=60)

    ok(run("--log", log_url, "topics", "create", topic))
    assert topic in ok(run("topics", "list", RIVERBED_LOG=log_url)).stdout.split()
    assert topic in ok(run("--log", log_url, "topics", "list")).stdout.split()


def test_home_option_places_the_embedded_log(tmp_path: Path, env: dict, topic: str) -> None:
    home = tmp_path / "elsewhere"
    cmd = [sys.executable, "-m", "riverbed"]
    ok(subprocess.run([*cmd, "topics", "create", topic, "--home", str(home)], env=env, capture_output=True,
                      text=True, timeout=60))
    assert (home / "log").is_dir()
    listed = subprocess.run([*cmd, "topics", "list"], env={**env, "RIVERBED_HOME": str(home)},
                            capture_output=True, text=True, timeout=60)
    assert topic in ok(listed).stdout.split()


# -- produce --------------------------------------------------------------------------------------


def test_produce_key_field_places_records_by_murmur2(rb, log: Log, topic: str, tmp_path: Path) -> None:
    ok(rb("topics", "create", topic, "--partitions", "4"))
    hosts = [f"web-{i}" for i in range(9)]
    lines = [json.dumps({"host": hosts[i % 9], "n": i}) for i in range(2500)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")

    proc = ok(rb("produce", topic, "--key-field", "host", "--file", str(path)))

    records = read_topic(log, topic)
    assert len(records) == 2500
    assert sorted(json.loads(r.value)["n"] for r in records) == list(range(2500))
    for r in records:
        assert r.key == json.loads(r.value)["host"].encode()
        assert r.partition == partition_for(r.key, 4)
    counts = {p: sum(1 for r in records if r.partition == p) for p in range(4)}
    expected = " ".join(f"p{p}={n}" for p, n in sorted(counts.items()) if n)
    assert proc.stderr.strip() == f"produced 2500 records to {topic}: {expected}"


def test_produce_stdin_with_fixed_key_and_partition(rb, log: Log, topic: str) -> None:
    ok(rb("topics", "create", topic, "--partitions", "3"))
    ok(rb("produce", topic, "--key", "k1", "--partition", "2", input="one\ntwo\r\nthree"))
    records = read_topic(log, topic)
    assert [(r.partition, r.offset, r.key, r.value) for r in records] == [
        (2, 0, b"k1", b"one"), (2, 1, b"k1", b"two"), (2, 2, b"k1", b"three")]
    unkeyed = ok(rb("produce", topic, input="".join(f"u{i}\n" for i in range(10))))
    assert unkeyed.stderr.startswith(f"produced 10 records to {topic}: ")
    assert sorted(r.value for r in read_topic(log, topic) if r.key is None) == sorted(
        f"u{i}".encode() for i in range(10))


def test_produce_bad_lines_are_skipped_reported_and_dead_lettered(rb, log: Log, topic: str) -> None:
    ok(rb("topics", "create", topic, "--partitions", "2"))
    lines = ['{"user": "ann", "n": 1}', "{not json", '{"n": 3}', '["user"]', '{"user": 7, "n": 5}',
             '{"user": null}', '{"user": "bob", "n": 7}']
    proc = rb("produce", topic, "--key-field", "user", "--batch-size", "2", input="\n".join(lines) + "\n")

    assert_one_line_error(proc, f"produced 3 records to {topic}", "4 bad lines skipped",
                          "line 2: invalid JSON", "line 3: no field 'user'", "line 4: not a JSON object",
                          "1 more", f"{topic}.dlq", code=1)
    records = read_topic(log, topic)
    assert sorted((json.loads(r.value)["n"], r.key) for r in records) == [(1, b"ann"), (5, b"7"), (7, b"bob")]
    dead = read_dead_letters(log, topic)
    assert [d.value for d in dead] == [lines[1].encode(), lines[2].encode(), lines[3].encode(),
                                       lines[5].encode()]
    assert dead[0].reason.startswith("line 2: invalid JSON") and dead[0].source == "cli:produce"
    assert dead[3].reason == "line 6: field 'user' is null"
    shown = json_lines(ok(rb("consume", f"{topic}.dlq", "--json", "--headers", "--max", "1")).stdout)
    assert shown[0]["value"] == "{not json"
    assert ["riverbed.source", "cli:produce"] in shown[0]["headers"]


# -- consume --------------------------------------------------------------------------------------


@pytest.fixture
def stamped(log: Log, topic: str) -> list[LogRecord]:
    """`topic` with 2 partitions, 3 records each, timestamps one day apart from 2016-07-05."""
    day = 86_400_000
    log.create_topic(topic, TopicConfig(partitions=2))
    for p in (0, 1):
        log.append(topic, [Record(f"v{p}{i}".encode(), key=f"k{i}".encode(), timestamp=T2016 + (i - 2) * day,
                                  partition=p) for i in range(3)])
    return read_topic(log, topic)


def test_consume_json_from_beginning_offset_and_time(rb, topic: str, stamped: list[LogRecord]) -> None:
    docs = [as_doc(r) for r in stamped]
    everything = json_lines(ok(rb("consume", topic, "--json")).stdout)
    assert by_position(everything) == docs
    for p in (0, 1):  # within a partition, offset order
        assert [d["offset"] for d in everything if d["partition"] == p] == [0, 1, 2]
    assert by_position(json_lines(ok(rb("consume", topic, "--json", "--from", "beginning")).stdout)) == docs
    assert by_position(json_lines(ok(rb("consume", topic, "--json", "--from", "2")).stdout)) == [
        d for d in docs if d["offset"] >= 2]
    at_2016 = json_lines(ok(rb("consume", topic, "--json", "--from", "2016-07-07T00:00:00Z")).stdout)
    assert by_position(at_2016) == [d for d in docs if d["timestamp"] >= T2016]
    assert ok(rb("consume", topic, "--from", "end")).stdout == ""
    one = json_lines(ok(rb("consume", topic, "--json", "--partition", "1", "--from", "1")).stdout)
    assert one == [d for d in docs if d["partition"] == 1 and d["offset"] >= 1]


def test_consume_text_and_max(rb, topic: str, stamped: list[LogRecord]) -> None:
    text = ok(rb("consume", topic)).stdout.splitlines()
    assert sorted(text) == ["v00", "v01", "v02", "v10", "v11", "v12"]
    assert len(ok(rb("consume", topic, "--max", "4")).stdout.splitlines()) == 4


def test_consume_group_commits_resumes_and_shows_lag(rb, log: Log, topic: str, topic_factory) -> None:
    group = topic_factory("g")
    log.create_topic(topic, TopicConfig(partitions=2))
    log.append(topic, [Record(f"r{i}".encode(), partition=i % 2) for i in range(10)])

    first = ok(rb("consume", topic, "--group", group, "--max", "4")).stdout.splitlines()
    assert len(first) == 4
    lag = json_lines(ok(rb("groups", "--group", group, "--json")).stdout)
    assert sum(r["committed"] or 0 for r in lag) == 4 and sum(r["lag"] for r in lag) == 6
    assert {(r["group"], r["topic"], r["end_offset"]) for r in lag} == {(group, topic, 5)}

    rest = ok(rb("consume", topic, "--group", group)).stdout.splitlines()
    assert sorted(first + rest) == sorted(f"r{i}" for i in range(10))
    assert log.committed(group, topic) == {0: 5, 1: 5}

    table = ok(rb("groups")).stdout.splitlines()
    assert table[0].split() == ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"]
    mine = sorted(line.split() for line in table if line.split()[0] == group)
    assert mine == [[group, topic, "0", "5", "5", "0"], [group, topic, "1", "5", "5", "0"]]
    # --from overrides the committed offsets
    assert len(ok(rb("consume", topic, "--group", group, "--from", "beginning")).stdout.splitlines()) == 10


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_consume_follow_picks_up_new_records_and_stops_on_signal(log_url: str, env: dict, log: Log,
                                                                 topic: str, sig: int) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    log.append(topic, [Record(b"before", partition=0)])
    cmd = [sys.executable, "-m", "riverbed", "consume", topic, "--follow", "--log", log_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=30) == "before\n"
        log.append(topic, [Record(b"after-1", partition=1), Record(b"after-2", partition=0)])
        assert sorted([lines.get(timeout=30), lines.get(timeout=30)]) == ["after-1\n", "after-2\n"]
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 128 + sig  # 130 SIGINT, 143 SIGTERM
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "Traceback" not in err
    assert err.strip() == f"riverbed: stopped by {signal.Signals(sig).name}"


def test_consume_into_a_closed_pipe_exits_cleanly(log_url: str, env: dict, log: Log, topic: str) -> None:
    log.create_topic(topic)
    for _ in range(5):
        log.append_values(topic, [b"x" * 200] * 1000)  # 1 MB: more than a pipe buffer holds
    proc = subprocess.Popen([sys.executable, "-m", "riverbed", "consume", topic, "--log", log_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.readline() == b"x" * 200 + b"\n"
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


# -- errors ---------------------------------------------------------------------------------------

BAD = {
    "describe unknown topic": (["topics", "describe", "{missing}"], ["does not exist", "topics create"]),
    "consume unknown topic": (["consume", "{missing}"], ["does not exist"]),
    "produce unknown topic": (["produce", "{missing}"], ["does not exist"]),
    "delete unknown topic": (["topics", "delete", "{missing}"], ["does not exist"]),
    "create existing topic": (["topics", "create", "{topic}"], ["already exists"]),
    "zero partitions": (["topics", "create", "{missing}", "--partitions", "0"], ["partitions"]),
    "partitions not a number": (["topics", "create", "{missing}", "--partitions", "many"], ["--partitions"]),
    "bad --from": (["consume", "{topic}", "--from", "yesterday"], ["--from", "ISO time"]),
    "partition out of range": (["consume", "{topic}", "--partition", "7"], ["no partition 7", "0..1"]),
    "produce to missing partition": (["produce", "{topic}", "--partition", "2"], ["no partition 2"]),
    "unreadable file": (["produce", "{topic}", "--file", "{tmp}/nope.txt"], ["cannot read", "nope.txt"]),
    "directory as file": (["produce", "{topic}", "--file", "{tmp}"], ["cannot read"]),
    "invalid JSON line": (["produce", "{topic}", "--key-field", "id", "--file", "{tmp}/bad.jsonl"],
                          ["line 1: invalid JSON"]),
    "unknown command": (["topicz", "list"], ["invalid choice"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_line_and_nonzero_exit(rb, log: Log, topic: str, tmp_path: Path,
                                                   case: str) -> None:
    log.create_topic(topic, TopicConfig(partitions=2))
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    args, words = BAD[case]
    names = {"topic": topic, "missing": topic + "-missing", "tmp": str(tmp_path)}
    proc = rb(*[a.format(**names) for a in args])
    assert_one_line_error(proc, *words)
    assert proc.stdout == ""


def test_unreachable_broker_is_one_line(env: dict) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "riverbed", "topics", "list", "--log", f"kafka://127.0.0.1:{port}"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert_one_line_error(proc, f"127.0.0.1:{port}", code=1)


def test_debug_shows_the_traceback(rb, topic: str) -> None:
    proc = rb("topics", "describe", topic, "--debug")
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "does not exist" in proc.stderr


# -- start-up -------------------------------------------------------------------------------------


def test_log_commands_do_not_import_pyspark(log_url: str, env: dict) -> None:
    code = ("import sys; from riverbed.cli import main; rc = main(['topics', 'list', '--log', sys.argv[1]]); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')); "
            "print(rc, heavy, file=sys.stderr)")
    proc = ok(subprocess.run([sys.executable, "-c", code, log_url], capture_output=True, text=True, env=env,
                             timeout=60))
    assert proc.stderr.strip() == "0 []"


def test_help_lists_every_command_module() -> None:
    from riverbed import cli
    from riverbed.cli.ingest import MORE_KINDS

    modules = {p.stem for p in Path(cli.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
    # every module is a command, except those adding kinds to `riverbed ingest` and the apps' kit
    support = {"mount", "kit"}
    assert modules - set(MORE_KINDS) - support == set(cli.COMMANDS), "add new command modules to COMMANDS"
    out = ok(subprocess.run([sys.executable, "-m", "riverbed", "--help"], capture_output=True, text=True,
                            timeout=60)).stdout
    for name in [*cli.COMMANDS, "demo"]:  # demo: logwatch's, mounted from its entry point
        assert f"\n    {name} " in out
    words = " ".join(out.split())  # help text wraps lines
    assert "[env: RIVERBED_HOME]" in words and "[env: RIVERBED_LOG]" in words
