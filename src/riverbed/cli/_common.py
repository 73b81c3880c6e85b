"""Shared pieces of the CLI: the global options every command accepts, opening the log, tables.

Every parser made here (the root and each subcommand, at any depth) is a `Parser`, so
`riverbed --log URL topics list` and `riverbed topics list --log URL` both work, and a usage error
is reported on one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from riverbed.config import DEFAULT_HOME, ENV_HOME, ENV_LOG

if TYPE_CHECKING:
    from riverbed.log import Log


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-wrapped descriptions and examples; a little wider help column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def add_argument(self, action: argparse.Action) -> None:
        """Measure command names at the indent they are printed with, so a long one (reprocess)
        keeps its help on the same line."""
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction) and action.help is not argparse.SUPPRESS:
            deeper = self._current_indent + self._indent_increment
            for sub in action._get_subactions():
                width = len(self._format_action_invocation(sub)) + deeper
                self._action_max_length = max(self._action_max_length, width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose every (sub)command accepts the global options.

    Subparsers created from it are `Parser`s too (argparse uses `type(self)`), so a command
    module's `subparsers.add_parser(...)` gets `--home`, `--log` and `--debug` for free. Only the
    root holds their defaults; below it they default to SUPPRESS so a subcommand never overwrites
    a value given before it.
    """

    def __init__(self, *args: Any, root: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        _add_global_options(self, root=root)

    def error(self, message: str) -> NoReturn:
        """A usage error: one line on stderr (the user's words escaped) and exit status 2."""
        from riverbed.safetext import printable

        prog = printable(self.prog)
        self.exit(2, f"{prog}: error: {printable(message)} (see `{prog} --help`)\n")


def _add_global_options(parser: argparse.ArgumentParser, *, root: bool) -> None:
    def default(value: object) -> object:
        return value if root else argparse.SUPPRESS

    g = parser.add_argument_group("global options (before or after the command)")
    g.add_argument(
        "--home",
        metavar="DIR",
        default=default(None),
        help=f"where riverbed keeps its data [env: {ENV_HOME}] (default: ./{DEFAULT_HOME})",
    )
    g.add_argument(
        "--log",
        metavar="URL",
        default=default(None),
        help=f"which log: embedded, embedded:///DIR or kafka://HOST:PORT [env: {ENV_LOG}] "
        "(default: embedded, under --home)",
    )
    g.add_argument(
        "--store",
        metavar="URL",
        default=default(None),
        help="serving store: postgresql://USER:PASS@HOST:PORT/DB [env: RIVERBED_STORE] "
        "(default: SQLite, serving.db under --home)",
    )
    g.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks on errors")


@contextmanager
def opened_log(args: argparse.Namespace) -> Iterator[Log]:
    """The log chosen by --log / $RIVERBED_LOG (and --home / $RIVERBED_HOME), closed afterwards."""
    from riverbed.log import open_log

    with open_log(args.log, home=args.home) as log:
        yield log


APP_HELP = ("the app: a file (app.py or app.py:ATTR), a module (package.module[:ATTR]) or a name from "
            "`riverbed apps`, e.g. logwatch")


def add_app_argument(p: argparse.ArgumentParser) -> None:
    """The positional APP every pipeline command takes, resolved by riverbed.app.load_app."""
    p.add_argument("pipeline", metavar="APP", help=APP_HELP)


def add_master_option(p: argparse.ArgumentParser) -> None:
    """`--master`, for the commands that start Spark."""
    p.add_argument("--master", help="Spark master [env: RIVERBED_SPARK_MASTER] (default: local[*])")


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {n}")
    return n


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    n = non_negative_int(text)
    if n == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return n


def check_partition(partition: int | None, partitions: int, topic: str) -> None:
    """Raise InvalidArgument unless `partition` is None or one of `topic`'s partitions."""
    from riverbed.errors import InvalidArgument

    if partition is not None and not 0 <= partition < partitions:
        raise InvalidArgument(
            f"topic '{topic}' has no partition {partition}",
            hint=f"its partitions are 0..{partitions - 1} (see `riverbed topics describe {topic}`)",
        )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as aligned plain text: numbers right-aligned, text left-aligned, two spaces apart."""
    from riverbed.safetext import printable

    cells = [[printable(str(h)) for h in headers]] + [["-" if v is None else printable(str(v)) for v in row]
                                                       for row in rows]
    numeric = [all(isinstance(row[i], int) or row[i] is None for row in rows) for i in range(len(headers))]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def emit(text: str) -> None:
    """Print a line of command output to stdout."""
    sys.stdout.write(text + "\n")


def note(text: str) -> None:
    """Print a status line to stderr (stdout stays for data); a newline or control character in it
    (from a user's argument, field name or record) is shown escaped, so a note is one line."""
    from riverbed.safetext import printable

    sys.stderr.write(printable(text, "\t") + "\n")
