"""Arrow encoding of the embedded log's stored batches, and their conversion to `arrow_schema()`.

A stored batch holds only what varies per record (key, value, timestamp, headers) as one Arrow IPC
record-batch message (no schema message: the schema below is fixed by the file format version).
Topic, partition and offsets are rebuilt on read from where the batch sits, so appends serialise
columns once and never build a Python object per record.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riverbed.errors import CorruptLogError, InvalidArgument
from riverbed.log.api import Headers, LogRecord, Record, arrow_schema

HEADERS_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))
STORE_SCHEMA = pa.schema(
    [
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary()),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("headers", HEADERS_TYPE),
    ]
)
OUT_SCHEMA = arrow_schema()
_TS_TYPE = OUT_SCHEMA.field("timestamp").type


class Encoded:
    """A serialised batch ready to store: the IPC message, its size and CRC32, and its time range."""

    __slots__ = ("blob", "count", "crc", "max_ts", "min_ts", "size")

    def __init__(self, batch: pa.RecordBatch, min_ts: int, max_ts: int) -> None:
        buf = batch.serialize()
        self.blob = memoryview(buf)
        self.size = buf.size
        self.crc = zlib.crc32(self.blob)
        self.count = batch.num_rows
        self.min_ts, self.max_ts = min_ts, max_ts


def _binary(items: Sequence[bytes | None] | pa.Array, what: str) -> pa.Array:
    if isinstance(items, pa.Array):
        return items if items.type == pa.binary() else items.cast(pa.binary())
    try:
        return pa.array(items, pa.binary())
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError) as e:
        raise InvalidArgument(f"{what} must be bytes or None: {e}", hint="encode text with .encode()") from e


def encode_columns(
    values: Sequence[bytes | None] | pa.Array,
    keys: Sequence[bytes | None] | pa.Array | None,
    timestamps: Sequence[int] | int,
    headers: pa.Array | None = None,
) -> Encoded:
    """Encode column-wise input (the `append_values` fast path)."""
    n = len(values)
    vals = _binary(values, "values")
    ks = pa.nulls(n, pa.binary()) if keys is None else _binary(keys, "keys")
    if isinstance(timestamps, int):
        ts = pa.array(np.full(n, timestamps, dtype=np.int64))
        lo = hi = timestamps
    else:
        try:
            ts = pa.array(timestamps, pa.int64())
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError) as e:
            raise InvalidArgument(f"timestamps must be epoch milliseconds (int): {e}") from e
        if ts.null_count:
            raise InvalidArgument("timestamps must not contain None", hint="pass one int for all of them")
        mm = pc.min_max(ts)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
    hdrs = pa.nulls(n, HEADERS_TYPE) if headers is None else headers
    return Encoded(pa.RecordBatch.from_arrays([ks, vals, ts, hdrs], schema=STORE_SCHEMA), lo, hi)


def encode_records(records: Sequence[Record], now: int) -> Encoded:
    """Encode `Record` objects (the general path); a None timestamp becomes `now`."""
    ts = [now if r.timestamp is None else r.timestamp for r in records]
    keys = [r.key for r in records]
    hdrs = None
    if any(r.headers for r in records):
        try:
            hdrs = pa.array(
                [[{"key": k, "value": v} for k, v in r.headers] if r.headers else None for r in records],
                HEADERS_TYPE,
            )
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, ValueError) as e:
            raise InvalidArgument(f"headers must be (str, bytes) pairs: {e}") from e
    has_keys = any(k is not None for k in keys)
    return encode_columns([r.value for r in records], keys if has_keys else None, ts, hdrs)


def decode(blob: bytes, crc: int, count: int, path: str, where: str) -> pa.RecordBatch:
    """Check a stored blob's CRC and record count, then read it; CorruptLogError if either fails."""
    if zlib.crc32(blob) != crc:
        raise CorruptLogError(path, f"checksum mismatch in the batch at {where}")
    try:
        batch = pa.ipc.read_record_batch(pa.py_buffer(blob), STORE_SCHEMA)
    except (pa.ArrowInvalid, OSError) as e:
        raise CorruptLogError(path, f"unreadable batch at {where}: {e}") from e
    if batch.num_rows != count:
        raise CorruptLogError(path, f"batch at {where} holds {batch.num_rows} records, index says {count}")
    return batch


def to_output(parts: list[pa.RecordBatch], topic: str, partition: int, first_offset: int) -> pa.RecordBatch:
    """Join stored batches (already sliced) into one batch of `arrow_schema()`."""
    if len(parts) == 1:
        b = parts[0]
        key, value, ts, hdrs = b.column(0), b.column(1), b.column(2), b.column(3)
    else:
        t = pa.Table.from_batches(parts, STORE_SCHEMA).combine_chunks()
        key, value, ts, hdrs = (t.column(i).chunk(0) if t.column(i).num_chunks else
                                pa.array([], STORE_SCHEMA.field(i).type) for i in range(4))
    n = len(value)
    offsets = pa.array(np.arange(first_offset, first_offset + n, dtype=np.int64))
    parts_col = pa.array(np.full(n, partition, dtype=np.int32))
    topic_col = pa.repeat(pa.scalar(topic, pa.string()), n)
    return pa.RecordBatch.from_arrays(
        [key, value, topic_col, parts_col, offsets, ts.view(_TS_TYPE), hdrs], schema=OUT_SCHEMA
    )


def to_records(batch: pa.RecordBatch, topic: str, partition: int) -> list[LogRecord]:
    """Python `LogRecord`s from an output batch (the row-wise `read` API)."""
    keys = batch.column("key").to_pylist()
    values = batch.column("value").to_pylist()
    offs = batch.column("offset").to_pylist()
    ts = batch.column("timestamp").cast(pa.int64()).to_pylist()
    hcol = batch.column("headers")
    if hcol.null_count == len(hcol):
        hdrs: list[Headers] = [()] * len(values)
    else:
        hdrs = [tuple((h["key"], h["value"]) for h in row) if row else () for row in hcol.to_pylist()]
    return [
        LogRecord(topic, partition, o, t, k, v, h)
        for o, t, k, v, h in zip(offs, ts, keys, values, hdrs, strict=True)
    ]
