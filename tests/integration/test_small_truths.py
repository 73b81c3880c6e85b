"""Small truths the CLI tells: query's row count, produce's partitions for keyless, CSV and regex keys,
and what the batch layer's cutoff covered (its report, checked without Spark)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riverbed.cli.batch import report
from riverbed.layers.batch import BatchLayerResult
from riverbed.log import TopicConfig, open_log
from riverbed.log.partitioner import partition_for
from riverbed.store import OutputSpec, SqliteStore

SPEC = OutputSpec("counts", [("window_start", "INTEGER"), ("level", "TEXT"), ("count", "INTEGER")],
                  keys=["window_start", "level"], measures={"count": "sum"}, time_columns=["window_start"])


def rb(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """`riverbed --home HOME ARGS...` as a subprocess, with `stdin` fed in."""
    return subprocess.run([sys.executable, "-m", "riverbed", "--home", str(home), *args], input=stdin,
                          capture_output=True, timeout=120, env={**os.environ})


def records(home: Path, topic: str) -> list[tuple[int, bytes | None, bytes]]:
    """(partition, key, value) of every record of `topic`."""
    with open_log(home=home) as log:
        n = log.describe(topic).config.partitions
        return [(p, r.key, r.value) for p in range(n) for r in log.read(topic, p, 0, 10_000)]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with open_log(home=tmp_path) as log:
        log.create_topic("t", TopicConfig(partitions=4))
    return tmp_path


def test_query_prints_the_row_count_on_stderr(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "serving.db")
    store.ensure_output("p", SPEC)
    store.apply_batch("p", 0, {"counts": [(0, "INFO", 3), (10_000, "ERROR", 1)]})
    both = rb(tmp_path, "query", "counts")
    assert both.returncode == 0 and both.stderr.decode() == "(2 rows)\n"
    assert len(both.stdout.decode().splitlines()) == 3  # header and two rows
    one = rb(tmp_path, "query", "counts", "--where", "level=ERROR", "--json")
    assert one.stderr.decode() == "(1 row)\n" and len(one.stdout.splitlines()) == 1
    none = rb(tmp_path, "query", "counts", "--where", "level=FATAL")
    assert none.returncode == 0 and none.stderr.decode() == "(0 rows)\n"


def test_keyless_produce_sticks_to_one_partition_per_batch_rotating(home: Path) -> None:
    lines = b"".join(b"%d\n" % i for i in range(10))
    done = rb(home, "produce", "t", "--batch-size", "3", stdin=lines)
    assert done.returncode == 0, done.stderr
    got = records(home, "t")
    by_value = {v: p for p, _, v in got}
    batches = [[by_value[b"%d" % i] for i in range(s, min(s + 3, 10))] for s in range(0, 10, 3)]
    assert all(len(set(b)) == 1 for b in batches), batches  # one partition per append batch
    firsts = [b[0] for b in batches]
    assert [(q - firsts[0]) % 4 for q in firsts] == [0, 1, 2, 3], firsts  # the next one each batch
    counts = done.stderr.decode().strip().split(": ")[1].split()  # "produced 10 records to t: p0=3 ..."
    assert sorted(int(c.split("=")[1]) for c in counts) == [1, 3, 3, 3]


def test_keyless_produce_runs_do_not_all_start_on_partition_0(home: Path) -> None:
    for _ in range(12):
        assert rb(home, "produce", "t", stdin=b"x\n").returncode == 0
    used = {p for p, _, _ in records(home, "t")}
    assert len(used) >= 2, used  # each run starts where Kafka's sticky partitioner would: at random


def test_produce_keys_csv_lines_by_column_number_or_header_name(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "trades.csv"
    data.write_bytes(b'symbol,price\nAAPL,1\n"MS,FT",2\nAAPL,3\nshort\n')
    by_name = rb(home, "produce", "t", "--file", str(data), "--csv-header", "--key-field", "symbol")
    assert by_name.returncode == 0, by_name.stderr
    got = records(home, "t")
    assert sorted((k, v) for _, k, v in got) == [(b"AAPL", b"AAPL,1"), (b"AAPL", b"AAPL,3"),
                                                 (b"MS,FT", b'"MS,FT",2'), (b"short", b"short")]
    assert all(p == partition_for(k, 4) for p, k, _ in got)  # keyed: murmur2, as Kafka places them
    by_number = rb(home, "produce", "t", "--file", str(data), "--key-field", "2")
    err = by_number.stderr.decode()
    assert by_number.returncode == 1 and "line 5: no column 2 (the line has 1)" in err, err
    assert err.startswith("produced 4 records to t")
    keys = {k for _, k, v in records(home, "t") if (k, v) not in {(k0, v0) for _, k0, v0 in got}}
    assert keys == {b"price", b"1", b"2", b"3"}  # the header line is a record here, keyed "price"
    unknown = rb(home, "produce", "t", "--file", str(data), "--csv-header", "--key-field", "nope")
    assert unknown.returncode != 0 and "no such column" in unknown.stderr.decode()


def test_produce_keys_by_regex_group(home: Path) -> None:
    done = rb(home, "produce", "t", "--key-regex", r"user=(\w+)", stdin=b"user=bob a\nuser=ann b\nnobody\n")
    assert done.returncode == 0, done.stderr
    keyed = {v: (p, k) for p, k, v in records(home, "t")}
    assert keyed[b"user=bob a"] == (partition_for(b"bob", 4), b"bob")
    assert keyed[b"user=ann b"] == (partition_for(b"ann", 4), b"ann")
    assert keyed[b"nobody"][1] is None


def test_batch_report_says_the_cutoff_its_origin_and_what_it_covered() -> None:
    origin = ("the stream's watermark 2015-10-18T18:08:55.202Z: its newest event time "
              "2015-10-18T18:09:55.202Z minus the pipeline's lateness 60s, rounded down to the minute")
    res = BatchLayerResult(cutoff_ms=1445191680000, generation=1, records=845, views={"level_counts": 21},
                           seconds=3.0, origin=origin, later=1155, first_later_ms=None)
    lines = report("logwatch", "v1", res)
    assert lines[0] == f"cutoff 2015-10-18T18:08:00.000Z ({origin})"
    assert lines[1].startswith("batch layer logwatch v1: 845 records before 2015-10-18T18:08:00.000Z")
    assert lines[1].endswith("; 1155 later records left to the speed layer")
    assert len(lines) == 2  # no hint when it covered records
    empty = BatchLayerResult(1445191680000, 1, 0, {}, 1.0, origin, 2000, 1445191690000)
    hint = report("logwatch", "v1", empty)[-1]
    assert hint == ("hint: no records before the cutoff (the lake's first is at 2015-10-18T18:08:10.000Z): "
                    "pass a later --cutoff T, or wait until the stream's watermark passes them")
