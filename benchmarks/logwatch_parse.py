"""logwatch's parse rate in lines per CPU second (one core): `parse_batches` (the mapInArrow function)
over the loghub samples in tests/data/logs, printed as JSON.

    PYTHONPATH=src python benchmarks/logwatch_parse.py [--systems HDFS,Hadoop,...] [--repeat 5]

Runs whatever `riverbed.apps.logwatch` is first on PYTHONPATH (so main's code can be measured the
same way). Each system's lines go through `parse_batches` (as one Spark task would) in Arrow
batches of 1,000 rows shaped like the log's; the best of `--repeat` rounds is reported per system
and overall (the 7 first samples by default; all 16 with --systems).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pyarrow as pa

from riverbed.apps.logwatch.arrow import parse_batches

DATA = Path(__file__).parents[1] / "tests" / "data" / "logs" / "loghub"
ORIGINAL = ("HDFS", "Hadoop", "Spark", "Apache", "Linux", "OpenSSH", "BGL")
BATCH = 1000


def batches(lines: list[bytes]) -> list[pa.RecordBatch]:
    """The lines as log-shaped Arrow batches (value, topic, partition, offset, timestamp)."""
    out = []
    for i in range(0, len(lines), BATCH):
        chunk = lines[i : i + BATCH]
        n = len(chunk)
        out.append(pa.record_batch({
            "value": pa.array(chunk, pa.binary()),
            "topic": pa.array(["logs"] * n),
            "partition": pa.array([0] * n, pa.int32()),
            "offset": pa.array(range(i, i + n), pa.int64()),
            "timestamp": pa.array([1_500_000_000_000] * n, pa.timestamp("ms", tz="UTC")),
        }))
    return out


def rate(bs: list[pa.RecordBatch], repeat: int) -> tuple[float, int]:
    """(best lines per CPU second over `repeat` rounds, rows with an error in the last round).

    CPU time of this (single-threaded) process, not wall time: on a shared 2-core machine other
    processes' load would otherwise be measured too.
    """
    n = sum(b.num_rows for b in bs)
    best, errors = 0.0, 0
    for _ in range(repeat):
        t = time.process_time()
        outs = list(parse_batches(iter(bs), default_year=2017))
        best = max(best, n / (time.process_time() - t))
        errors = sum(o.num_rows - o.column("error").null_count for o in outs)
    return best, errors


def main() -> None:
    """Measure and print {system: {lines, lines_per_s, errors}, all: ...} as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", default=",".join(ORIGINAL), help="comma-separated loghub systems")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    systems = args.systems.split(",")
    per: dict[str, dict[str, float]] = {}
    every: list[bytes] = []
    for s in systems:
        lines = [ln.encode() for ln in (DATA / f"{s}_2k.log").read_text(encoding="utf-8").splitlines()]
        every += lines
        r, errors = rate(batches(lines), args.repeat)
        per[s] = {"lines": len(lines), "lines_per_s": round(r), "error_rows": errors}
    total, errors = rate(batches(every), args.repeat)
    print(json.dumps({
        "benchmark": "logwatch parse_batches, lines per CPU second of one core",
        "code": os.environ.get("PYTHONPATH", ""),
        "systems": per,
        "all": {"lines": len(every), "lines_per_s": round(total), "error_rows": errors},
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
