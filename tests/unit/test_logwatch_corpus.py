"""logwatch reads real logs it was not written for (issue 21): the time and stated level of >= 99%
of the lines of every loghub 2k sample, checked against loghub's own structured ground truth
(`<System>_2k.log_structured.csv`), never against the parser; through the Spark path
(`parse_batch`, one source) and through the detector alone (no well-known layout)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from riverbed.apps.logwatch import Detector, parse_batch, parse_record

LOGHUB = Path(__file__).parents[1] / "data" / "logs" / "loghub"
SYSTEMS = [
    "HDFS", "Hadoop", "Spark", "Apache", "Linux", "OpenSSH", "BGL",  # the first samples
    "Android", "HPC", "HealthApp", "Mac", "OpenStack", "Proxifier", "Thunderbird", "Windows", "Zookeeper",
]
YEAR = 2017
LOG_TIME = int(datetime(YEAR, 12, 31, 23, tzinfo=UTC).timestamp() * 1000)  # when the lines were logged
# loghub's Level spellings -> the level a reader of the line would name (independent of levels.py)
STATED = {
    "I": "INFO", "D": "DEBUG", "V": "VERBOSE", "W": "WARN", "E": "ERROR", "INFO": "INFO", "Info": "INFO",
    "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR", "error": "ERROR", "notice": "NOTICE",
    "FATAL": "FATAL", "SEVERE": "ERROR",
}


def ms(text: str, fmt: str) -> int:
    """Epoch ms of a wall-clock time read as UTC, by strptime."""
    return int(datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp() * 1000)


def expected_time(system: str, row: dict[str, str]) -> tuple[int, int]:
    """(epoch ms, precision in ms) of a line from loghub's structured columns."""
    if system == "HDFS":
        return ms(row["Date"].zfill(6) + row["Time"].zfill(6), "%y%m%d%H%M%S"), 1000
    if system in ("Hadoop", "Zookeeper"):
        return ms(f"{row['Date']} {row['Time']}000", "%Y-%m-%d %H:%M:%S,%f"), 1
    if system == "Spark":
        return ms(f"{row['Date']} {row['Time']}", "%y/%m/%d %H:%M:%S"), 1000
    if system == "Apache":
        return ms(row["Time"], "%a %b %d %H:%M:%S %Y"), 1000
    if system in ("Linux", "Mac"):
        return ms(f"{YEAR} {row['Month']} {row['Date']} {row['Time']}", "%Y %b %d %H:%M:%S"), 1000
    if system == "OpenSSH":
        return ms(f"{YEAR} {row['Date']} {row['Day']} {row['Time']}", "%Y %b %d %H:%M:%S"), 1000
    if system in ("BGL", "Thunderbird"):
        return int(row["Timestamp"]) * 1000, 1000  # epoch seconds; the local stamp beside it has no zone
    if system == "HPC":
        return int(row["Time"]) * 1000, 1000
    if system == "Android":
        return ms(f"{YEAR}-{row['Date']} {row['Time']}000", "%Y-%m-%d %H:%M:%S.%f"), 1
    if system == "HealthApp":  # 20171223-22:15:29:606, fields unpadded (22:16:0:11): the last is ms
        day, clock = row["Time"].split("-")
        h, m, s, milli = (int(x) for x in clock.split(":"))
        return ms(day, "%Y%m%d") + ((h * 60 + m) * 60 + s) * 1000 + milli, 1
    if system == "OpenStack":
        return ms(f"{row['Date']} {row['Time']}000", "%Y-%m-%d %H:%M:%S.%f"), 1
    if system == "Proxifier":
        return ms(f"{YEAR}.{row['Time']}", "%Y.%m.%d %H:%M:%S"), 1000
    if system == "Windows":
        return ms(f"{row['Date']} {row['Time']}", "%Y-%m-%d %H:%M:%S"), 1000
    raise AssertionError(system)


def load(system: str) -> tuple[list[str], list[dict[str, str]]]:
    lines = [ln for ln in (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8").split("\n") if ln]
    with (LOGHUB / f"{system}_2k.log_structured.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(lines) == len(rows) == 2000
    return lines, rows


Got = dict[int, tuple[int, str, str]]


def score(system: str, rows: list[dict[str, str]], got: Got) -> tuple[float, float]:
    """(share with the right time, share with the right level) of a sample's lines; `got` maps a
    line's index to (time, level, level_source) -- a line missing from it (joined to another) is wrong."""
    right_time = right_level = 0
    for i, row in enumerate(rows):
        if i not in got:
            continue
        t, level, source = got[i]
        want, unit = expected_time(system, row)
        right_time += t // unit == want // unit
        if "Level" in row and system not in ("Linux",):  # Linux's "Level" column holds the host
            right_level += (level, source) == (STATED[row["Level"]], "line")
        else:  # the sample states no level: none may be claimed, one is inferred from the message
            right_level += source == "inferred"
    return right_time / len(rows), right_level / len(rows)


def _batch(lines: list[str]) -> pa.RecordBatch:
    n = len(lines)
    return pa.record_batch({
        "value": pa.array([ln.encode() for ln in lines], pa.binary()),
        "topic": pa.array(["logs"] * n),
        "partition": pa.array([0] * n, pa.int32()),
        "offset": pa.array(range(n), pa.int64()),
        "timestamp": pa.array([LOG_TIME] * n, pa.timestamp("ms", tz="UTC")),
    })


@pytest.mark.parametrize("system", SYSTEMS)
def test_corpus_time_and_level_through_the_spark_path(system: str) -> None:
    lines, rows = load(system)
    out = parse_batch(_batch(lines)).to_pylist()
    assert all(r["error"] is None for r in out)
    got = {r["offset"]: (int(r["time"].timestamp() * 1000), r["level"], r["level_source"]) for r in out}
    time_ok, level_ok = score(system, rows, got)
    print(f"{system}: {len(lines)} lines, right time {time_ok:.2%}, right level {level_ok:.2%}")
    assert time_ok >= 0.99 and level_ok >= 0.99
    assert all(r["time_source"] in ("line", "inferred") for r in out)  # every line states a time


@pytest.mark.parametrize("system", SYSTEMS)
def test_corpus_with_the_detector_alone(system: str) -> None:
    """No well-known layout (formats.py): the detector learns each sample's layout by itself."""
    lines, rows = load(system)
    det = Detector()
    got = {}
    for i, line in enumerate(lines):
        t, level, _, _, _, _, source = parse_record(line, YEAR, LOG_TIME, detector=det, known=False)
        got[i] = (t, level, source)
    time_ok, level_ok = score(system, rows, got)
    print(f"{system} (detector alone): right time {time_ok:.2%}, right level {level_ok:.2%}")
    assert time_ok >= 0.99 and level_ok >= 0.99
