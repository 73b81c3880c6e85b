"""Output specs: what a serving-store table holds and how partial rows merge into it. Shared by
the SQLite and PostgreSQL stores; identifiers are checked here so SQL is never built from user text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from riverbed.errors import InvalidArgument, RiverbedError

MERGES = ("sum", "min", "max", "replace")
#: Plus "first:T" / "last:T": keep the value whose time column T is earliest / latest (e.g. OHLC's
#: open and close); T itself should merge with "min" / "max".
ORDERED_MERGES = ("first", "last")
SQL_TYPES = ("INTEGER", "REAL", "TEXT", "BLOB")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def batch_table(output: str, generation: int) -> str:
    """The table holding generation `generation` of an output's batch view."""
    return f"{output}__b{generation}"


class StoreError(RiverbedError):
    """The serving store could not do what was asked."""


def ident(name: str) -> str:
    """Quote `name` as an SQL identifier after checking it is a plain name."""
    if not _IDENT.match(name or ""):
        raise InvalidArgument(
            f"{name!r} is not a valid table or column name", hint="use letters, digits and _"
        )
    return f'"{name}"'


@dataclass(frozen=True)
class OutputSpec:
    """An output table: key columns identify a row; measures say how partial values merge."""

    name: str
    columns: Sequence[tuple[str, str]]  # (name, SQL type) in order
    keys: Sequence[str]
    measures: Mapping[str, str] = field(default_factory=dict)  # column -> a merge in MERGES, first:T, last:T
    time_columns: Sequence[str] = ()  # epoch-ms INTEGER columns shown as ISO 8601

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple((c, t) for c, t in self.columns))
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "measures", dict(self.measures))
        object.__setattr__(self, "time_columns", tuple(self.time_columns))
        names = [c for c, _ in self.columns]
        ident(self.name)
        for c, t in self.columns:
            ident(c)
            if t not in SQL_TYPES:
                raise InvalidArgument(f"column {c} of {self.name}: type {t!r} is not one of {SQL_TYPES}")
        for c in [*self.keys, *self.measures, *self.time_columns]:
            if c not in names:
                raise InvalidArgument(f"output {self.name}: {c!r} is not one of its columns {names}")
        for c, m in self.measures.items():
            kind, _, by = m.partition(":")
            if m in MERGES or (kind in ORDERED_MERGES and by in names and by != c):
                continue
            raise InvalidArgument(
                f"output {self.name}: merge {m!r} for {c} is not one of {MERGES}, first:T or last:T",
                hint="T is another column of the output holding the value's time",
            )

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def to_json(self) -> str:
        return json.dumps(
            {"columns": list(map(list, self.columns)), "keys": list(self.keys),
             "measures": dict(self.measures), "time_columns": list(self.time_columns)}
        )

    @classmethod
    def from_json(cls, name: str, text: str) -> OutputSpec:
        d = json.loads(text)
        return cls(name, [tuple(c) for c in d["columns"]], d["keys"], d["measures"], d["time_columns"])
