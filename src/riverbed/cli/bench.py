"""`riverbed bench NAME`: a benchmark an app contributes (ysb: the Yahoo Streaming Benchmark)."""

from __future__ import annotations

import argparse

from riverbed.cli.mount import add_group


def register(subparsers: argparse._SubParsersAction) -> None:
    add_group(subparsers, "bench", help="run a benchmark (ysb: the Yahoo Streaming Benchmark)",
              description="Run a benchmark an installed app contributes ('bench.NAME' entry points).")
