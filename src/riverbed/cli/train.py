"""`riverbed train APP`: learn an app's model in batch over the lake; each app adds its own (mount.py)."""

from __future__ import annotations

import argparse

from riverbed.cli.mount import add_group


def register(subparsers: argparse._SubParsersAction) -> None:
    add_group(subparsers, "train", help="learn an app's model in batch over the lake (logwatch: error "
              "baselines; buzz: text clusters)",
              description="Learn an app's model in batch over the lake, for its stream to use. The apps "
              "installed add their own subcommand (entry-point group riverbed.commands, 'train.APP').")
