"""Declarative parse steps: say what a record holds, and riverbed writes the parse.

    from riverbed import Pipeline, parse

    Pipeline(name="shop", topics=["payments"],
             parse=parse.csv("user string, amount decimal(12,2)"),           # time: the log's
             ...)
    parse.json("user string, amount double, t long", event_time="t", time_format="epoch_ms")
    parse.regex(r"(\\S+) paid (\\S+)", "user string, amount double")
    parse.text()                                                              # one line = one record

Each returns a function `parse(df)` from the log's columns to: `topic, partition, offset, timestamp`,
the declared fields (typed), the event-time column, `error` (null when the record parsed, else why
not: the record then goes to the dead-letter topic) and `raw` (the record's text). The event time is
a field of the record (`event_time="t"`, converted with `time_format`: a Spark datetime pattern,
"epoch_ms", "epoch_s" or None for ISO 8601 / a timestamp field) or, by default, the log's own
append time (`event_time="log"`, the column `time`). `Pipeline` takes its `event_time` from the
parse step when none is given. Casts never raise: a value that does not fit its type is an error
naming the field, so one bad record never stops a stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from riverbed.errors import InvalidArgument

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

LOG_TIME = "log"
KEEP = ("topic", "partition", "offset", "timestamp")


class DeclaredParse:
    """A parse step built from a declaration; callable on the log's DataFrame."""

    def __init__(self, kind: str, fields: list[tuple[str, str]],
                 extract: Callable[[Column], dict[str, Column]], event_time: str, time_format: str | None,
                 optional: Sequence[str], check: Any = None) -> None:
        names = [n for n, _ in fields]
        if event_time != LOG_TIME and event_time not in names:
            raise InvalidArgument(f"parse.{kind}: event_time={event_time!r} is not one of the fields "
                                  f"({', '.join(names) or 'none'})",
                                  hint='or event_time="log" for the log\'s time')
        types = dict(fields)
        numeric = ("int", "integer", "long", "bigint", "double", "float", "short", "smallint")
        if event_time != LOG_TIME and time_format is None and types[event_time].lower() in numeric:
            raise InvalidArgument(f"parse.{kind}: event_time={event_time!r} is a number: say which",
                                  hint='time_format="epoch_ms" or time_format="epoch_s"')
        unknown = [o for o in optional if o not in names]
        if unknown:
            raise InvalidArgument(f"parse.{kind}: optional field {unknown[0]!r} is not declared")
        self.kind, self.fields, self._extract, self._check = kind, fields, extract, check
        self.time_source = event_time
        self.event_time = "time" if event_time == LOG_TIME else event_time
        self.time_format = time_format
        self.optional = set(optional)

    def __repr__(self) -> str:
        decl = ", ".join(f"{n} {t}" for n, t in self.fields)
        return f"parse.{self.kind}({decl!r}, event_time={self.time_source!r})"

    def __call__(self, df: DataFrame) -> DataFrame:
        from pyspark.sql import functions as F

        text = F.col("value").cast("string")
        raw_values = self._extract(text)  # field -> string Column (null when absent)
        typed = {n: _cast(raw_values[n], t) for n, t in self.fields}
        problems = [F.when(text.isNull(), F.lit("the record has no value"))]
        if self._check is not None:
            problems.append(self._check(text))
        for n, t in self.fields:
            absent = raw_values[n].isNull() | (F.trim(raw_values[n]) == "")
            if n not in self.optional:
                problems.append(F.when(absent, F.lit(f"{n} is missing")))
            problems.append(F.when(~absent & typed[n].isNull(), F.concat(
                F.lit(f"{n}: "), F.substring(raw_values[n], 1, 60), F.lit(f" is not a {t}"))))
        if self.time_source == LOG_TIME:
            time_col = F.col("timestamp")
        else:
            time_col = _to_time(raw_values[self.time_source], self.time_format)
            problems.append(F.when(time_col.isNull() & typed[self.time_source].isNotNull(),
                                   F.lit(f"{self.time_source}: not a time")))
        cols = [F.col(c) for c in KEEP]
        cols += [typed[n].alias(n) for n, _ in self.fields if n != self.event_time]
        cols += [time_col.alias(self.event_time), F.coalesce(*problems).alias("error"), text.alias("raw")]
        return df.select(*cols)


def _fields(declaration: str, kind: str) -> list[tuple[str, str]]:
    """'user string, amount decimal(12,2)' -> [("user", "string"), ("amount", "decimal(12,2)")]."""
    out, depth, part = [], 0, ""
    for ch in declaration + ",":
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            words = part.split(None, 1)
            if len(words) != 2:
                raise InvalidArgument(f"parse.{kind}: {part.strip()!r} is not 'name type'",
                                      hint='e.g. "user string, amount decimal(12,2), t long"')
            out.append((words[0].strip("`"), words[1].strip()))
            part = ""
        else:
            part += ch
    names = [n for n, _ in out]
    if len(set(names)) != len(names) or set(names) & {*KEEP, "error", "raw"}:
        raise InvalidArgument(f"parse.{kind}: field names must be unique and not one of "
                              f"{', '.join([*KEEP, 'error', 'raw'])}: {names}")
    return out


def _cast(col: Column, type_: str) -> Column:
    """`col` (a string) as `type_`; null, never an error, when it does not fit (ANSI mode or not)."""
    if type_.lower() in ("string", "str"):
        return col
    return col.try_cast(type_)


def _to_time(col: Column, time_format: str | None) -> Column:
    from pyspark.sql import functions as F

    if time_format == "epoch_ms":
        return F.timestamp_millis(col.try_cast("long"))
    if time_format == "epoch_s":
        return F.timestamp_seconds(col.try_cast("double"))
    if time_format is not None:
        return F.try_to_timestamp(col.cast("string"), F.lit(time_format))
    return col.try_cast("timestamp")


def json(fields: str, *, event_time: str = LOG_TIME, time_format: str | None = None,
         optional: Sequence[str] = ()) -> DeclaredParse:
    """Each record's value is a JSON object; `fields` ("name type, ...") are read from it by name."""
    from pyspark.sql import functions as F

    declared = _fields(fields, "json")

    def extract(text: Column) -> dict[str, Column]:
        # every field read as JSON text first, then cast: a wrong type is one field's error
        as_text = F.from_json(text, "map<string,string>")
        return {n: as_text.getItem(n) for n, _ in declared}

    def check(text: Column) -> Column:
        return F.when(F.from_json(text, "map<string,string>").isNull(), F.lit("not a JSON object"))

    return DeclaredParse("json", declared, extract, event_time, time_format, optional, check)


def csv(fields: str, *, sep: str = ",", event_time: str = LOG_TIME, time_format: str | None = None,
        optional: Sequence[str] = (), quote: str = '"') -> DeclaredParse:
    """Each record's value is one delimited line; `fields` are its columns in order (quotes as in CSV)."""
    from pyspark.sql import functions as F

    declared = _fields(fields, "csv")
    schema = ", ".join(f"`{n}` string" for n, _ in declared)
    options = {"sep": sep, "quote": quote, "mode": "PERMISSIVE", "ignoreLeadingWhiteSpace": "true",
               "ignoreTrailingWhiteSpace": "true"}

    def extract(text: Column) -> dict[str, Column]:
        row = F.from_csv(text, schema, options)
        return {n: row.getField(n) for n, _ in declared}

    def check(text: Column) -> Column:
        n = F.size(F.split(text, re.escape(sep)))  # a quick count: quoted separators are rare
        return F.when((n < len(declared)) & ~text.contains(quote),
                      F.concat(F.lit(f"expected {len(declared)} fields, got "), n.cast("string")))

    return DeclaredParse("csv", declared, extract, event_time, time_format, optional, check)


def regex(pattern: str, fields: str, *, event_time: str = LOG_TIME, time_format: str | None = None,
          optional: Sequence[str] = ()) -> DeclaredParse:
    """Each record's value matches `pattern` (Java regex); its groups, in order, are `fields`."""
    from pyspark.sql import functions as F

    declared = _fields(fields, "regex")
    try:
        groups = re.compile(pattern).groups
    except re.error as e:
        raise InvalidArgument(f"parse.regex: {pattern!r} is not a regular expression: {e}") from None
    if groups != len(declared):
        raise InvalidArgument(f"parse.regex: the pattern has {groups} groups for {len(declared)} fields")

    def extract(text: Column) -> dict[str, Column]:
        matched = text.rlike(pattern)
        return {n: F.when(matched, F.regexp_extract(text, pattern, i + 1))
                for i, (n, _) in enumerate(declared)}

    def check(text: Column) -> Column:
        return F.when(~text.rlike(pattern), F.lit("does not match the pattern"))

    return DeclaredParse("regex", declared, extract, event_time, time_format, optional, check)


def text() -> DeclaredParse:
    """Each record is one line of text, in the column `line`; its time is the log's."""
    return DeclaredParse("text", [("line", "string")], lambda t: {"line": t}, LOG_TIME, None, ("line",))


__all__ = ["LOG_TIME", "DeclaredParse", "csv", "json", "regex", "text"]
