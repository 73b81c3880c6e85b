"""What both YSB peer programs share (stdlib only: it runs in the peers venv, without riverbed).

Protocol with the harness, one line each on stdout: `READY` once the consumer is assigned,
`PROGRESS <processed>` every 0.25 s, `DONE <json>` at the end (consumed, processed, first/last
processed wall-clock ms, peak RSS). The harness may send `EXPECT <n>` on stdin once it knows how
many events it wrote, or `STOP` to end now. An event counts as processed once its effect reached
the result table: at once for a non-view event, after the window count for a view.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory. /proc's VmHWM, not getrusage's ru_maxrss: on Linux a
    child started by fork + exec inherits its parent's high-water mark in ru_maxrss, which made
    every peer report the harness's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


WINDOW_MS = 10_000


def now_ms() -> int:
    """Wall-clock epoch ms (what updated_ms and the harness's window ends are measured in)."""
    return time.time_ns() // 1_000_000


def parse_args(engine: str) -> argparse.Namespace:
    """The peer programs' common command line."""
    p = argparse.ArgumentParser(description=f"YSB on {engine}, reading a Kafka topic")
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port")
    p.add_argument("--topic", required=True)
    p.add_argument("--mapping", required=True, type=Path, help="JSON file: [[ad_id, campaign_id], ...]")
    p.add_argument("--out", required=True, type=Path, help="JSON lines of the final per-window rows")
    p.add_argument("--expect", type=int, default=None, help="stop after processing this many events")
    p.add_argument("--idle-timeout", type=float, default=30.0, help="stop after this long without input (s)")
    p.add_argument("--grace-ms", type=int, default=60_000, help="allowed lateness (riverbed's ysb: 60 s)")
    return p.parse_args()


def load_mapping(path: Path) -> dict[str, str]:
    """ad_id -> campaign_id from the harness's file."""
    rows = json.loads(path.read_text())
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 2 for r in rows):
        raise SystemExit(f"{path}: expected a JSON list of [ad_id, campaign_id] pairs")
    return {ad: campaign for ad, campaign in rows}


class Tracker:
    """Counters, the result table and the stop condition, shared by the engine's callbacks."""

    def __init__(self, expect: int | None, idle_timeout: float) -> None:
        self.expect, self.idle_timeout = expect, idle_timeout
        self.consumed = self.views_in = self.views_counted = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.last_input = time.monotonic()
        self.rows: dict[tuple[str, int], tuple[int, int]] = {}  # (campaign, start) -> (count, updated_ms)
        self.stop = threading.Event()

    @property
    def processed(self) -> int:
        return self.consumed - self.views_in + self.views_counted

    def on_input(self, n: int, views: int) -> None:
        """`n` events consumed, `views` of them views (now on their way to the window count)."""
        if n:
            self.consumed += n
            self.views_in += views
            self.last_input = time.monotonic()
            if self.first_ms is None:
                self.first_ms = now_ms()
            self._check()

    def on_update(self, campaign: str, window_start: int, count: int, views: int) -> None:
        """A window's new count, after `views` more view events were counted."""
        self.rows[(campaign, window_start)] = (count, now_ms())
        self.views_counted += views
        self._check()

    def _check(self) -> None:
        if self.expect is not None and self.processed >= self.expect and not self.stop.is_set():
            self.last_ms = now_ms()
            self.stop.set()

    def idle(self) -> bool:
        return time.monotonic() - self.last_input > self.idle_timeout

    def start_reporting(self, on_stop=None) -> None:
        """PROGRESS lines, EXPECT from stdin, idle timeout; calls `on_stop()` once it is time to stop."""

        def report() -> None:
            while True:
                print(f"PROGRESS {self.processed}", flush=True)
                if self.idle():
                    self.stop.set()
                if self.stop.wait(0.25):
                    break
            if on_stop is not None:
                on_stop()

        def read_stdin() -> None:
            for line in sys.stdin:
                if line.startswith("EXPECT "):
                    self.expect = int(line.split()[1])
                    self._check()
                elif line.startswith("STOP"):
                    self.stop.set()

        threading.Thread(target=report, daemon=True, name="progress").start()
        threading.Thread(target=read_stdin, daemon=True, name="stdin").start()

    def finish(self, out: Path, engine: str) -> None:
        """Write the result rows as JSON lines and print DONE with the summary."""
        with out.open("w") as f:
            for (campaign, start), (count, updated) in sorted(self.rows.items()):
                f.write(json.dumps({"campaign_id": campaign, "window_start": start,
                                    "window_end": start + WINDOW_MS, "count": count,
                                    "updated_ms": updated}) + "\n")
        peak_mb = peak_rss_mb()
        print("DONE " + json.dumps({
            "engine": engine, "consumed": self.consumed, "processed": self.processed,
            "first_ms": self.first_ms, "last_ms": self.last_ms or now_ms(), "windows": len(self.rows),
            "expect": self.expect, "idle_stop": self.last_ms is None, "peak_rss_mb": round(peak_mb, 1),
        }), flush=True)
