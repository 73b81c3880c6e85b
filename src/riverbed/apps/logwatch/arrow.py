"""`parse_batches`: the parse over Arrow record batches, the shape Spark's `DataFrame.mapInArrow` wants.

    parsed = df.mapInArrow(parse_batches, PARSED_DDL)   # same call in streaming and in batch mode

Input: batches with a `value` column (binary or string, one log line per row) and, when present,
`topic`, `partition`, `offset`, `timestamp` (passed through). Output: `PARSED_SCHEMA`. A line that
cannot be parsed keeps its row: `error` holds the reason and the parsed fields are null. `raw` holds
every row's original bytes, so a bad or late line reaches the dead-letter topic exactly as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from riverbed.apps.logwatch.parse import current_year, parse_tuple
from riverbed.apps.logwatch.templates import mask
from riverbed.errors import LogParseError

_TS = pa.timestamp("us", tz="UTC")
PASS_THROUGH = ("topic", "partition", "offset", "timestamp")

PARSED_SCHEMA = pa.schema(
    [
        pa.field("time", _TS),
        pa.field("level", pa.string()),
        pa.field("component", pa.string()),
        pa.field("message", pa.string()),
        pa.field("template", pa.string()),
        pa.field("format", pa.string()),
        pa.field("error", pa.string()),
        pa.field("raw", pa.binary()),
        pa.field("topic", pa.string()),
        pa.field("partition", pa.int32()),
        pa.field("offset", pa.int64()),
        pa.field("timestamp", _TS),
    ]
)

#: Spark DDL of PARSED_SCHEMA, for `df.mapInArrow(parse_batches, PARSED_DDL)`.
PARSED_DDL = (
    "time TIMESTAMP, level STRING, component STRING, message STRING, template STRING, format STRING, "
    "error STRING, raw BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP"
)


def _decode(value: bytes | str | None) -> tuple[str | None, str | None]:
    """(text, error): UTF-8 text of a value, or None and a reason when it is null or not UTF-8."""
    if value is None:
        return None, "null value"
    if isinstance(value, str):
        return value, None
    try:
        return value.decode("utf-8"), None
    except UnicodeDecodeError:
        return value.decode("utf-8", "backslashreplace"), "not UTF-8 text (binary data)"


def parse_batch(batch: pa.RecordBatch, *, default_year: int | None = None) -> pa.RecordBatch:
    """Parse one batch into PARSED_SCHEMA (see the module docstring)."""
    if "value" not in batch.schema.names:
        raise LogParseError(f"input batch has no 'value' column (columns: {batch.schema.names})")
    year = current_year() if default_year is None else default_year
    n = batch.num_rows
    times: list[int | None] = [None] * n
    levels: list[str | None] = [None] * n
    comps: list[str | None] = [None] * n
    msgs: list[str | None] = [None] * n
    tmpls: list[str | None] = [None] * n
    fmts: list[str | None] = [None] * n
    errors: list[str | None] = [None] * n
    cache: dict[str, str] = {}
    values = batch.column("value")
    # every row keeps its original bytes: a bad or late line is dead-lettered exactly as it arrived
    raws = values.to_pylist() if pa.types.is_binary(values.type) else pc.cast(values, pa.binary()).to_pylist()
    for i, value in enumerate(values.to_pylist()):
        line, err = _decode(value)
        if err is None:
            try:
                t, level, comp, msg, fmt = parse_tuple(line, year)  # type: ignore[arg-type]
            except LogParseError as e:
                err = e.reason
            else:
                times[i], levels[i], comps[i], msgs[i], fmts[i] = t * 1000, level, comp, msg, fmt
                tmpl = cache.get(msg)
                if tmpl is None:
                    tmpl = cache[msg] = mask(msg)
                tmpls[i] = tmpl
                continue
        errors[i] = err
    cols: list[pa.Array] = [
        pa.array(times, pa.int64()).cast(_TS),
        pa.array(levels, pa.string()),
        pa.array(comps, pa.string()),
        pa.array(msgs, pa.string()),
        pa.array(tmpls, pa.string()),
        pa.array(fmts, pa.string()),
        pa.array(errors, pa.string()),
        pa.array(raws, pa.binary()),
    ]
    for name in PASS_THROUGH:
        field = PARSED_SCHEMA.field(name)
        if name in batch.schema.names:
            cols.append(pc.cast(batch.column(name), field.type))
        else:
            cols.append(pa.nulls(n, field.type))
    return pa.RecordBatch.from_arrays(cols, schema=PARSED_SCHEMA)


def parse_batches(
    batches: Iterator[pa.RecordBatch], *, default_year: int | None = None
) -> Iterator[pa.RecordBatch]:
    """Parse a stream of Arrow batches (the `mapInArrow` function): one output batch per input batch."""
    for batch in batches:
        yield parse_batch(batch, default_year=default_year)


def batches_parser(default_year: int) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """`parse_batches` with a fixed year for year-less formats, so stream and backfill agree."""
    return partial(parse_batches, default_year=default_year)
