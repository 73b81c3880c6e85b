"""What a command contributed by an app uses (see riverbed.cli.mount): the same helpers riverbed's
own commands use, under one public name.

    from riverbed.cli import kit

    def add_train(subparsers):
        p = subparsers.add_parser("shop", help="learn the shop's model")
        kit.add_master_option(p)
        kit.add_storage_options(p)
        p.set_defaults(func=run)
"""

from __future__ import annotations

from riverbed.cli._common import (
    add_app_argument,
    add_master_option,
    emit,
    non_negative_int,
    note,
    opened_log,
    positive_int,
    table,
)
from riverbed.cli.ingest import add_common_options, rate_arg, run_source, stop_on_signals
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options

__all__ = ["add_app_argument", "add_common_options", "add_master_option", "add_storage_options",
           "apply_storage_options", "emit", "non_negative_int", "note", "opened_log", "positive_int",
           "rate_arg", "run_source", "stop_on_signals", "table"]
