"""logwatch's detection on layouts no sample or rule lists (held out of any tuning), the year turn,
zones, stated vs inferred levels, the learned layout, and multi-line records in stream and batch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from riverbed.apps.logwatch import Detector, parse_batch, parse_batches, parse_line, parse_record

LOGHUB = Path(__file__).parents[1] / "data" / "logs" / "loghub"
LOGGED = int(datetime(2026, 12, 7, 11, tzinfo=UTC).timestamp() * 1000)  # the log append time used below


def at(iso: str) -> int:
    """Epoch ms of an ISO 8601 time with its zone (datetime's reading, not the parser's)."""
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


# (layout, line, expected time, expected level or None when the line states none)
HELD_OUT = [
    ("glog", "I1207 09:15:02.123456  4321 server.cc:118] Listening on port 8080",
     "2026-12-07T09:15:02.123+00:00", "INFO"),
    ("glog", "W1207 09:15:03.000001  4321 pool.cc:77] queue 90% full, request failed",
     "2026-12-07T09:15:03+00:00", "WARN"),
    ("klog", "E1207 09:15:04.500000       1 reflector.go:138] Failed to watch *v1.Pod: timeout",
     "2026-12-07T09:15:04.5+00:00", "ERROR"),
    ("nginx access", '203.0.113.7 - - [07/Dec/2026:10:00:01 +0100] "GET /index.html HTTP/1.1" 200'
     ' 612 "-" "curl/8"',
     "2026-12-07T10:00:01+01:00", None),
    ("nginx error", '2026/12/07 10:00:02 [error] 1234#1234: *5 open() "/srv/x" failed (2: No such'
     ' file), client: 1.2.3.4',
     "2026-12-07T10:00:02+00:00", "ERROR"),
    ("RFC 5424", "<34>1 2026-12-07T10:00:03.003Z mymachine.example.com su - ID47 - 'su root'"
     " failed on /dev/pts/8",
     "2026-12-07T10:00:03.003+00:00", "FATAL"),
    ("RFC 5424 SD", '<165>1 2026-12-07T10:00:03.5-05:00 host app 42 ID1 [ex@32473 iut="3"] started',
     "2026-12-07T10:00:03.5-05:00", "NOTICE"),
    ("RFC 3164 PRI", "<12>Dec  7 10:00:04 web1 nginx[7]: upstream timed out",
     "2026-12-07T10:00:04+00:00", "WARN"),
    ("JSON", '{"time":"2026-12-07T10:00:05.250Z","level":"warn","msg":"slow request","logger":"api"}',
     "2026-12-07T10:00:05.250+00:00", "WARN"),
    ("JSON pino", '{"level":50,"time":1796637606000,"pid":7,"msg":"db down"}',
     "2026-12-07T10:00:06+00:00", "ERROR"),
    ("JSON ECS", '{"@timestamp":"2026-12-07T10:00:07.000+01:00","log.level":"info","message":"started"}',
     "2026-12-07T10:00:07+01:00", "INFO"),
    ("Spring Boot", "2026-12-07 10:00:08.123 ERROR 4242 --- [nio-8080-exec-1] o.a.c.c.C.[dispatcherServlet]"
     "    : Servlet.service() threw exception", "2026-12-07T10:00:08.123+00:00", "ERROR"),
    ("Python logging", "2026-12-07 10:00:09,500 - myapp.db - WARNING - connection pool exhausted",
     "2026-12-07T10:00:09.5+00:00", "WARN"),
    ("Go log", "2026/12/07 10:00:10 http: TLS handshake error from 10.0.0.1:5000: EOF",
     "2026-12-07T10:00:10+00:00", None),
    ("PostgreSQL", '2026-12-07 10:00:11.123 UTC [2345] ERROR:  relation "foo" does not exist',
     "2026-12-07T10:00:11.123+00:00", "ERROR"),
    ("rsyslog ISO", "2026-12-07T10:00:13.123456+01:00 host sshd[99]: Accepted publickey for bob",
     "2026-12-07T10:00:13.123+01:00", None),
    ("Elasticsearch", "[2026-12-07T10:00:15,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1]"
     " high disk watermark",
     "2026-12-07T10:00:15.123+00:00", "WARN"),
    ("MySQL", "2026-12-07T10:00:17.123456Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem"
     " is self signed.",
     "2026-12-07T10:00:17.123+00:00", "WARN"),
    ("Squid", "1796637618.123     45 10.0.0.1 TCP_MISS/200 1234 GET http://example.com/ -"
     " DIRECT/1.2.3.4 text/html",
     "2026-12-07T10:00:18.123+00:00", None),
    ("Cassandra", "INFO  [main] 2026-12-07 10:00:19,123 StorageService.java:123 - Node /10.0.0.1 state jump",
     "2026-12-07T10:00:19.123+00:00", "INFO"),
    ("Kafka", "[2026-12-07 10:00:20,123] WARN [KafkaServer id=1] Error while loading"
     " (kafka.server.KafkaServer)",
     "2026-12-07T10:00:20.123+00:00", "WARN"),
    ("Tomcat", "07-Dec-2026 10:00:21.456 SEVERE [main] org.apache.catalina.startup.Catalina.start"
     " Failed",
     "2026-12-07T10:00:21.456+00:00", "ERROR"),
    ("ctime RFC 2822", "Mon, 07 Dec 2026 10:00:22 +0000 notice: backup done",
     "2026-12-07T10:00:22+00:00", None),
    ("logcat brief", "12-07 10:00:23.001  1702  2395 E AndroidRuntime: FATAL EXCEPTION: main",
     "2026-12-07T10:00:23.001+00:00", "ERROR"),
    ("HPC-like node", "node-12 kernel 1796637624 Disk /dev/sda1 is full",
     "2026-12-07T10:00:24+00:00", None),
]


@pytest.mark.parametrize(("layout", "line", "iso", "level"), HELD_OUT, ids=[h[0] for h in HELD_OUT])
def test_held_out_layouts(layout: str, line: str, iso: str, level: str | None) -> None:
    p = parse_line(line, log_time=LOGGED)
    assert p.time == at(iso), layout
    if level is None:
        assert p.level_source == "inferred"
    else:
        assert (p.level, p.level_source) == (level, "line")


def test_held_out_share() -> None:
    """The held-out lines as one report: all of them read right (the corpus bar is 99%)."""
    right = sum(parse_line(line, log_time=LOGGED).time == at(iso) for _, line, iso, _ in HELD_OUT)
    assert right == len(HELD_OUT)


def test_inferred_levels_of_lines_stating_none() -> None:
    access = '1.2.3.4 - - [07/Dec/2026:10:00:01 +0000] "GET /x HTTP/1.1" {} 12 "-" "curl"'
    levels = [parse_line(access.format(s), log_time=LOGGED).level for s in (200, 404, 503)]
    assert levels == ["INFO", "WARN", "ERROR"]
    go = parse_line(HELD_OUT[13][1], log_time=LOGGED)
    assert (go.level, go.level_source) == ("ERROR", "inferred")  # "error" in the message


def test_stated_level_is_never_overridden_by_message_words() -> None:
    """issue 21: Zookeeper's WARN with "Exception" counted as ERROR, Windows' Info as WARN/ERROR."""
    zk = ("2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - "
          "Interrupted while waiting for message on queue java.lang.InterruptedException failed")
    win = ("2016-09-28 04:30:31, Info                  CBS    Failed to get session package state"
           " [HRESULT = 0x80004005]")
    assert (parse_line(zk).level, parse_line(zk).level_source) == ("WARN", "line")
    assert (parse_line(win).level, parse_line(win).component) == ("INFO", "CBS")


def test_year_less_stamps_take_the_year_of_the_log_time_across_the_turn() -> None:
    new_year = at("2027-01-01T00:00:05+00:00")
    p = parse_line("Dec 31 23:59:58 host cron[1]: tick", log_time=new_year)
    assert (p.time, p.time_source) == (at("2026-12-31T23:59:58+00:00"), "inferred")
    p = parse_line("01-01 00:00:01.000  1  2 I Tag: skewed clock", log_time=at("2026-12-31T23:59:59+00:00"))
    assert p.time == at("2027-01-01T00:00:01+00:00")
    assert parse_line("Jun 14 15:16:01 combo su: x", log_time=LOGGED).time == at("2026-06-14T15:16:01+00:00")


def test_configured_zone_applies_only_when_the_line_states_none() -> None:
    paris = "Europe/Paris"
    assert parse_line("2026-07-01 12:00:00 INFO a: b", tz=paris).time == at("2026-07-01T12:00:00+02:00")
    assert parse_line("2026-01-01 12:00:00 INFO a: b", tz=paris).time == at("2026-01-01T12:00:00+01:00")
    assert parse_line("2026-07-01T12:00:00Z INFO a: b", tz=paris).time == at("2026-07-01T12:00:00+00:00")
    assert parse_line("1796637618 x", tz="America/New_York").time == 1796637618000  # epoch: absolute


def test_a_line_without_time_is_counted_at_its_log_time() -> None:
    p = parse_line("disk almost full", log_time=LOGGED)
    assert (p.time, p.time_source, p.level, p.level_source) == (LOGGED, "log", "INFO", "inferred")
    p = parse_line("WARNING:root:disk almost full", log_time=LOGGED)
    assert (p.level, p.level_source, p.time_source) == ("WARN", "line", "log")


def test_the_learned_layout_gives_what_the_full_search_gives() -> None:
    """A source's Detector learns its layout from the first line and reuses it; the results are the
    ones a fresh search of each line gives (the layout is a cache, not a different reading)."""
    for system in ("OpenStack", "Thunderbird", "HPC", "Proxifier", "Android", "HealthApp"):
        lines = (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()
        det = Detector()
        learned = [parse_record(ln, 2017, LOGGED, detector=det, known=False) for ln in lines]
        assert det.layout is not None
        fresh = [parse_record(ln, 2017, LOGGED, known=False) for ln in lines]
        assert learned == fresh, system


# -- multi-line records ---------------------------------------------------------------------------

TRACE = [
    "2026-12-07 10:00:08.123 ERROR 4242 --- [main] com.example.App : request failed",
    "java.lang.IllegalStateException: boom",
    "\tat com.example.Foo.bar(Foo.java:42)",
    "Caused by: java.io.IOException: disk",
    "\t... 12 more",
    "",
    "2026-12-07 10:00:09.000 INFO 4242 --- [main] com.example.App : recovered",
]


def _batch(lines: list[str], first: int = 0, partition: int = 0) -> pa.RecordBatch:
    n = len(lines)
    return pa.record_batch({
        "value": pa.array([ln.encode() for ln in lines], pa.binary()),
        "topic": pa.array(["logs"] * n),
        "partition": pa.array([partition] * n, pa.int32()),
        "offset": pa.array(range(first, first + n), pa.int64()),
        "timestamp": pa.array([LOGGED] * n, pa.timestamp("ms", tz="UTC")),
    })


def _counted(rows: list[dict]) -> list[tuple]:
    return [(r["offset"], r["level"], r["template"]) for r in rows if not r["continuation"]]


def test_a_stack_trace_is_one_record() -> None:
    rows = parse_batch(_batch(TRACE)).to_pylist()
    assert [r["offset"] for r in rows] == [0, 6]
    head = rows[0]
    assert head["message"] == "request failed\n" + "\n".join(TRACE[1:5])
    assert head["raw"] == "\n".join(TRACE[:6]).encode()
    assert (head["level"], head["level_source"], head["template"]) == ("ERROR", "line", "request failed")
    assert not any(r["continuation"] for r in rows) and all(r["error"] is None for r in rows)


@pytest.mark.parametrize("cut", range(1, len(TRACE)))
def test_records_cut_by_batches_are_counted_once(cut: int) -> None:
    """Batches of one task carry the open record; micro-batches (separate tasks) flag the lines whose
    first line an earlier one counted: the counted rows are the same however the log is cut."""
    whole = parse_batch(_batch(TRACE)).to_pylist()
    pieces = iter([_batch(TRACE[:cut]), _batch(TRACE[cut:], cut)])
    one_task = [r for b in parse_batches(pieces) for r in b.to_pylist()]
    assert sorted(one_task, key=lambda r: r["offset"]) == whole  # the same rows, the text whole too
    whole = _counted(whole)
    tasks = (_batch(TRACE[:cut]), _batch(TRACE[cut:], cut))
    two_tasks = [r for b in tasks for r in parse_batch(b).to_pylist()]
    assert _counted(two_tasks) == whole
    flagged = [r for r in two_tasks if r["continuation"]]
    assert all((r["time_source"], r["level"], r["error"]) == ("log", None, None) for r in flagged)
    assert len(flagged) == (1 if cut < 6 else 0)  # "java.lang..." at a cut starts no record either


def test_untimed_lines_join_a_timed_record_or_stand_alone_at_log_time() -> None:
    lines = ["plain line one", "plain line two", "2026-12-07 10:00:00 INFO app: up", "more text"]
    rows = parse_batch(_batch(lines)).to_pylist()
    assert [(r["offset"], r["time_source"]) for r in rows] == [(0, "log"), (1, "log"), (2, "line")]
    assert rows[0]["time"] == datetime.fromtimestamp(LOGGED / 1000, UTC)
    assert rows[2]["message"] == "up\nmore text"


def test_sources_keep_their_own_records() -> None:
    """Two partitions interleaved in one batch: each continuation joins its own partition's record."""
    a = _batch(TRACE[:3], 0, partition=0)
    b = _batch(["2026-12-07 10:00:00 INFO other: x", "\tat elsewhere"], 0, partition=1)
    mixed = pa.Table.from_batches([a, b]).take([0, 3, 1, 4, 2]).combine_chunks().to_batches()[0]
    rows = parse_batch(mixed).to_pylist()
    assert [(r["partition"], r["message"].count("\n")) for r in rows] == [(0, 2), (1, 1)]


def test_event_times_of_a_file_learn_its_layout() -> None:
    """`riverbed ingest replay --log-times`: one reader per file, its layout learned from the first line."""
    from riverbed.apps.logwatch.lines import event_time, event_times

    lines = (LOGHUB / "Thunderbird_2k.log").read_text(encoding="utf-8").splitlines()[:50]
    read = event_times()
    assert [read(ln.encode()) for ln in lines] == [event_time(ln) for ln in lines]
    assert read(lines[0]) == int(lines[0].split()[1]) * 1000
    assert read("\tat a.B.c(B.java:1)") is None  # a continuation: the replay keeps the previous time
