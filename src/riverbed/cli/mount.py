"""Commands an app contributes to the CLI, found through entry points in group `riverbed.commands`.

    [project.entry-points."riverbed.commands"]
    "ingest.coinbase" = "shop.cli:add_ingest_kinds"   # under `riverbed ingest`
    "train.shop" = "shop.cli:add_train"               # under `riverbed train`
    "demo" = "shop.cli:add_demo"                      # a top-level command

The value names a function `register(subparsers)` that adds its parser(s) with
`subparsers.add_parser(NAME, ...)` and `set_defaults(func=run)` (`run(args) -> int`), exactly as a
command module of riverbed.cli does; riverbed.cli.kit holds the helpers such commands share.
Command modules import only argparse at the top, so `riverbed --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

GROUP = "riverbed.commands"
#: the platform commands apps may add subcommands to
GROUPS = ("ingest", "train", "backtest", "bench")


def mount(subparsers: argparse._SubParsersAction, under: str = "") -> list[str]:
    """Add every contributed command whose entry-point name is `UNDER.NAME` (or, with `under` empty,
    a plain `NAME`: a top-level command); returns the entry-point names mounted. One that fails to
    load is named on stderr and skipped: a broken app never breaks the rest of the CLI."""
    mounted = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        parent, _, _ = ep.name.rpartition(".")
        if parent != under:
            continue
        try:
            ep.load()(subparsers)
        except Exception as e:  # an app's import error: say which, keep the CLI usable
            sys.stderr.write(f"riverbed: note: command {ep.name} ({ep.value}) not loaded: "
                             f"{type(e).__name__}: {e}\n")
            continue
        mounted.append(ep.name)
    return mounted


def add_group(subparsers: argparse._SubParsersAction, name: str, help: str, description: str) -> None:
    """A platform command whose subcommands are all contributed by apps (`riverbed train APP`)."""
    p = subparsers.add_parser(name, help=help, description=description)
    sub = p.add_subparsers(title="apps", dest="app", metavar="APP", required=True)
    if not mount(sub, name):
        sub.required = False
        p.set_defaults(func=lambda args: _none(name))


def _none(name: str) -> int:
    from riverbed.errors import InvalidArgument

    raise InvalidArgument(f"no installed app adds a `{name}` command",
                          hint=f"apps add one through the entry-point group {GROUP} ('{name}.APP')")
