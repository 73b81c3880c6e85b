"""Latency percentiles of the published YSB results (Storm, Flink, Spark at 90,000 events/s).

    .venv/bin/python benchmarks/published_ysb.py

Prints JSON. YSB's latency of a window is its last update minus the window's end: `updated.txt`
holds ms from the window's start, so 10,000 ms (the window) is subtracted. Provenance and licence:
benchmarks/published/PROVENANCE.md.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent / "published"


def summary(engine: str) -> dict[str, object]:
    def ints(kind: str) -> list[int]:
        return [int(x) for x in (HERE / f"ysb_results_{engine}_90000eps_{kind}.txt").read_text().split()]

    updated, seen = [u - 10_000 for u in ints("updated")], ints("seen")
    q = statistics.quantiles(updated, n=100, method="inclusive")
    return {"engine": engine.lower(), "rate": 90_000, "windows": len(updated), "events_counted": sum(seen),
            "latency_ms": {"p50": round(q[49]), "p90": round(q[89]), "p99": round(q[98])}}


if __name__ == "__main__":
    print(json.dumps([summary(e) for e in ("STORM", "FLINK", "SPARK")], indent=2))
