"""The bitcoin pipeline's parse over Arrow batches (`df.mapInArrow(parse_batches, PARSED_DDL)`), the
same in stream and batch mode: each JSON record becomes one normalised row (see normalize.py).

A record that is not JSON, or a price message with a bad field, keeps its row with `error` set (it
goes to the dead-letter topic with that reason). Messages that carry no price and no time
(subscriptions, snapshots) are dropped here: they are not errors and say nothing about time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from riverbed.apps.bitcoin.normalize import normalize

_TS = pa.timestamp("us", tz="UTC")
PASS_THROUGH = ("topic", "partition", "offset", "timestamp")
PARSED_SCHEMA = pa.schema([
    ("product", pa.string()), ("time", _TS), ("price", pa.float64()), ("size", pa.float64()),
    ("open", pa.float64()), ("high", pa.float64()), ("low", pa.float64()), ("kind", pa.string()),
    ("source", pa.string()), ("seq", pa.int64()), ("error", pa.string()), ("raw", pa.binary()),
    ("topic", pa.string()), ("partition", pa.int32()), ("offset", pa.int64()), ("timestamp", _TS),
])
PARSED_DDL = (
    "product STRING, time TIMESTAMP, price DOUBLE, size DOUBLE, open DOUBLE, high DOUBLE, low DOUBLE, "
    "kind STRING, source STRING, seq BIGINT, error STRING, raw BINARY, topic STRING, partition INT, "
    "offset BIGINT, timestamp TIMESTAMP"
)
_FIELDS = ("product", "time_us", "price", "size", "open", "high", "low", "kind", "source", "seq")


def parse_value(value: bytes | str | None) -> tuple[tuple | None, str | None]:
    """(row of _FIELDS or None, error or None) for one record value; (None, None) means skip it."""
    if value is None:
        return None, "null value"
    try:
        obj = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep
        return None, f"not JSON: {e}"
    try:
        t = normalize(obj)
    except ValueError as e:
        return None, str(e)
    if t.time_us is None:
        return None, None
    return tuple(getattr(t, f) for f in _FIELDS), None


def parse_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Parse one batch of log records (a `value` column plus pass-through columns)."""
    values = batch.column("value")
    raws = values.to_pylist() if pa.types.is_binary(values.type) else pc.cast(values, pa.binary()).to_pylist()
    cols: list[list] = [[] for _ in _FIELDS]
    errors: list[str | None] = []
    keep: list[int] = []
    for i, raw in enumerate(raws):
        row, err = parse_value(raw)
        if row is None and err is None:
            continue
        keep.append(i)
        errors.append(err)
        for c, v in zip(cols, row or (None,) * len(_FIELDS), strict=True):
            c.append(v)
    take = pa.array(keep, pa.int64())
    arrays: list[pa.Array] = [
        pa.array(cols[0], pa.string()),
        pa.array(cols[1], pa.int64()).cast(_TS),
        *(pa.array(c, pa.float64()) for c in cols[2:7]),
        pa.array(cols[7], pa.string()),
        pa.array(cols[8], pa.string()),
        pa.array(cols[9], pa.int64()),
        pa.array(errors, pa.string()),
        pa.array([raws[i] for i in keep], pa.binary()),
    ]
    for name in PASS_THROUGH:
        field = PARSED_SCHEMA.field(name)
        if name in batch.schema.names:
            arrays.append(pc.cast(pc.take(batch.column(name), take), field.type))
        else:
            arrays.append(pa.nulls(len(keep), field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=PARSED_SCHEMA)


def parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The `mapInArrow` function: one parsed batch per input batch."""
    for batch in batches:
        yield parse_batch(batch)
