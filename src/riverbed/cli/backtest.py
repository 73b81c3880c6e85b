"""`riverbed backtest APP`: an app's strategy over the history in the log; each app adds its own."""

from __future__ import annotations

import argparse

from riverbed.cli.mount import add_group


def register(subparsers: argparse._SubParsersAction) -> None:
    add_group(subparsers, "backtest", help="back-test an app's strategy over the history in the log "
              "(bitcoin: a trading strategy)",
              description="Run an app's strategy over the retained log in batch mode, the same code as "
              "its stream. The apps installed add their own subcommand ('backtest.APP').")
