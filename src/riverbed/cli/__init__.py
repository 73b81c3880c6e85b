"""The `riverbed` command line: a thin layer over the library, one small module per command.

Adding a command: write `riverbed/cli/NAME.py` exposing
`register(subparsers: argparse._SubParsersAction) -> None` (it calls `subparsers.add_parser(...)`
and `set_defaults(func=run)` where `run(args) -> int`), then add NAME to `COMMANDS`. An app adds
its own commands through entry points instead (riverbed.cli.mount), never by editing this list. Command
modules import only argparse at the top; heavy libraries (pyarrow, pyspark) are imported inside
`run`, so `riverbed --help` and the log commands start fast and never start a JVM.

`main()` maps errors to exit codes: 0 ok, 1 a runtime error (one line on stderr: what was wrong
and what to do; the traceback only with --debug), 2 a usage error, 128 + the signal's number when
SIGINT (130) or SIGTERM (143) stopped it (one line says so; see riverbed.stopping).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence

from riverbed.cli._common import Parser

#: Command modules in `riverbed.cli`, in the order `riverbed --help` lists them.
COMMANDS: list[str] = [
    "topics",
    "produce",
    "consume",
    "groups",
    "ingest",
    "new",
    "apps",
    "run",
    "query",
    "batch",
    "reprocess",
    "versions",
    "switch",
    "rollback",
    "drop",
    "train",
    "shell",
    "backtest",
    "serve",
    "bench",
]

DESCRIPTION = """\
riverbed: data in motion and data at rest from one definition of the work.
Topics of partitioned, offset-numbered records in a unified log (embedded or Kafka)."""

EPILOG = """\
examples:
  riverbed topics create logs --partitions 4
  cat access.log | riverbed produce logs
  riverbed consume logs --from beginning --max 10
  riverbed --log kafka://localhost:9092 topics list"""


def build_parser() -> argparse.ArgumentParser:
    """The full parser: global options plus every command in `COMMANDS`."""
    from riverbed import __version__

    parser = Parser(prog="riverbed", description=DESCRIPTION, epilog=EPILOG, root=True)
    parser.add_argument("--version", action="version", version=f"riverbed {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    from riverbed.cli.mount import mount

    mount(subparsers)  # top-level commands the installed apps add (logwatch's `demo`)
    return parser


def command_names() -> list[str]:
    """Every top-level command: riverbed's own and those the installed apps add."""
    parser = build_parser()
    return [name for action in parser._subparsers._group_actions for name in action.choices]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]); returns the exit status.

    For the whole command, stdout and stderr escape control characters and terminal escapes
    (`riverbed.safetext`): user-supplied text in any message reaches the terminal as text."""
    from riverbed.safetext import guard_std_streams

    unguard = guard_std_streams()
    try:
        return _main(argv)
    finally:
        unguard()


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.store:  # resolved once here: the option beats $RIVERBED_STORE everywhere below
        os.environ["RIVERBED_STORE"] = args.store
    from riverbed import stopping

    stopping.reset()
    restore = stopping.raise_on_signals()
    spark_before = _spark_running()  # a caller's session (main() called in-process) is not ours to stop
    try:
        status = int(args.func(args) or 0)
        return _stopped(stopping.received()) if status == 0 and stopping.received() else status
    except KeyboardInterrupt as e:  # ours carries the signal; PySpark's own SIGINT handler's does not
        return _stopped(getattr(e, "signum", None) or stopping.received() or signal.SIGINT)
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`| head`): not an error
        return 0
    except Exception as e:  # every error ends here: one line, traceback only with --debug
        from riverbed.errors import RiverbedError
        from riverbed.safetext import printable

        if args.debug:
            traceback.print_exc()
        detail = getattr(e, "detail", None)
        if detail and not args.debug:  # the user's own traceback (an error in their app), trimmed
            sys.stderr.write(printable(detail, "\n"))
        if isinstance(e, RiverbedError):
            line = e.message + (f" ({e.hint})" if e.hint else "")
        else:
            line = f"unexpected {type(e).__name__}: {e} (rerun with --debug for the traceback and report it)"
        sys.stderr.write("riverbed: error: " + printable(" ".join(line.split())) + "\n")
        return int(getattr(e, "exit_status", 1))
    finally:
        restore()
        if not spark_before:
            _stop_spark()
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()


def _stopped(signum: int) -> int:
    """Say in one line which signal stopped the command; its exit status (128 + the signal)."""
    from riverbed import stopping

    sys.stderr.write(f"riverbed: stopped by {stopping.describe(signum)}\n")
    return stopping.exit_status(signum)


def _spark_running() -> bool:
    """Whether this process already has a SparkContext (without importing pyspark)."""
    sc = sys.modules.get("pyspark") and getattr(sys.modules.get("pyspark.core.context"), "SparkContext", None)
    return bool(sc and sc._active_spark_context is not None)


def _stop_spark() -> None:
    """Stop a Spark session the command started (queries first, then the context), before the
    interpreter exits under it (see riverbed.spark.shutdown)."""
    if "pyspark" in sys.modules:
        from riverbed import stopping
        from riverbed.spark.shutdown import stop_spark

        with stopping.on_signals(lambda: None):  # a second Ctrl-C must not cut the shutdown short
            stop_spark()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not raise BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
