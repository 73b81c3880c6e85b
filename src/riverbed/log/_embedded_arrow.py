"""Encoding of the embedded log's stored batches, and their conversion to `arrow_schema()`.

A stored batch holds only what varies per record, as one Arrow IPC record-batch message (no schema
message: `fmt` flags pick one of a few fixed schemas). Columns that are all null (keys, headers) or
constant (the timestamp, kept in the row's min_ts) are left out. A single record with a value and
no headers is stored raw (`fmt` RAW: the value is the blob, the key a column), so one-record appends
skip Arrow entirely. Messages of 4 KiB or more are LZ4-compressed when that saves at least a tenth
(flag LZ4; the blob is then the 8-byte raw size followed by an LZ4 frame): writing fewer bytes is
cheaper than compressing them. Topic, partition and offsets are rebuilt on read.

A big append is stored as several batches of at most STORE_BATCH_BYTES of keys and values each
(`encode_chunks`): SQLite compares keys of a WITHOUT ROWID table by reading the whole row, overflow
pages and all: an offset lookup among 3 MB batches cost ~6 ms, among 64 KB ones ~0.1 ms (128 KiB
of JSON values compresses to well under 64 KB).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riverbed.errors import CorruptLogError, InvalidArgument
from riverbed.log.api import Headers, LogRecord, Record, arrow_schema

HEADERS_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))
KEYS, HEADERS, TIMESTAMPS, RAW, LZ4 = 1, 2, 4, 8, 16  # fmt flags
COMPRESS_MIN = 4096  # smaller messages are stored as they are
SKIP_AFTER_MISS = 15  # after a batch that did not compress, store the next 15 as they are
STORE_BATCH_BYTES = 128 << 10  # keys + values per stored batch, at most (one bigger record alone)
_SIZE = struct.Struct("<Q")
_FIELDS = {
    KEYS: pa.field("key", pa.binary()),
    0: pa.field("value", pa.binary()),
    TIMESTAMPS: pa.field("timestamp", pa.int64()),
    HEADERS: pa.field("headers", HEADERS_TYPE),
}
_SCHEMAS = {
    fmt: pa.schema([f for flag, f in _FIELDS.items() if flag == 0 or fmt & flag]) for fmt in range(8)
}
STORE_SCHEMA = _SCHEMAS[KEYS | HEADERS | TIMESTAMPS]  # key, value, timestamp, headers
OUT_SCHEMA = arrow_schema()
_TS_TYPE = OUT_SCHEMA.field("timestamp").type


class Encoded:
    """A batch ready to store: blob, fmt, raw key, size, CRC32 and its time range."""

    __slots__ = ("blob", "count", "crc", "fmt", "key", "max_ts", "min_ts", "size")

    def __init__(self, blob, fmt: int, count: int, min_ts: int, max_ts: int, key: bytes | None = None):
        self.blob, self.fmt, self.count, self.key = blob, fmt, count, key
        self.size = len(blob) + (len(key) if key else 0)
        self.crc = checksum(blob, key)
        self.min_ts, self.max_ts = min_ts, max_ts


def checksum(blob, key: bytes | None) -> int:
    return zlib.crc32(key, zlib.crc32(blob)) if key else zlib.crc32(blob)


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
    skip: list[int] | None = None,
) -> Encoded:
    """Encode column-wise input (the `append_values` fast path).

    `skip` is the topic's one-item counter of batches to store without trying LZ4.
    """
    n = len(values)
    if isinstance(timestamps, int):
        lo = hi = timestamps
    elif len(timestamps) == 1 and isinstance(timestamps[0], int):
        lo = hi = timestamps[0]
    else:
        try:
            ts = pa.array(timestamps, pa.int64())
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError) as e:
            raise InvalidArgument(f"timestamps must be epoch milliseconds (int): {e}") from e
        if ts.null_count:
            raise InvalidArgument("timestamps must not contain None", hint="pass one int for all of them")
        mm = pc.min_max(ts)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if n == 1 and headers is None and not isinstance(values, pa.Array) and isinstance(values[0], bytes):
        key = None if keys is None else keys[0]
        if key is None or isinstance(key, bytes):
            return Encoded(values[0], RAW, 1, lo, hi, key)
    fmt, cols = 0, [_binary(values, "values")]
    if keys is not None:
        fmt, cols = KEYS, [_binary(keys, "keys"), *cols]
    if lo != hi:
        fmt, cols = fmt | TIMESTAMPS, [*cols, ts]
    if headers is not None:
        fmt, cols = fmt | HEADERS, [*cols, headers]
    buf = pa.RecordBatch.from_arrays(cols, schema=_SCHEMAS[fmt]).serialize()
    if buf.size >= COMPRESS_MIN:
        skip = [0] if skip is None else skip
        if skip[0] > 0:  # this topic's recent data did not compress: don't try every time
            skip[0] -= 1
        else:
            packed = pa.compress(buf, codec="lz4", asbytes=False)
            if packed.size < buf.size * 0.9:
                return Encoded(_SIZE.pack(buf.size) + memoryview(packed), fmt | LZ4, n, lo, hi)
            skip[0] = SKIP_AFTER_MISS
    return Encoded(memoryview(buf), fmt, n, lo, hi)


def encode_chunks(
    values: Sequence[bytes | None] | pa.Array,
    keys: Sequence[bytes | None] | pa.Array | None,
    timestamps: Sequence[int] | int,
    headers: pa.Array | None = None,
    skip: list[int] | None = None,
) -> list[Encoded]:
    """`encode_columns`, as consecutive stored batches of at most STORE_BATCH_BYTES each."""
    if len(values) < 2:
        return [encode_columns(values, keys, timestamps, headers, skip)]
    vals = _binary(values, "values")
    ks = None if keys is None else _binary(keys, "keys")
    sizes = _lengths(vals) if ks is None else _lengths(vals) + _lengths(ks)
    total = int(sizes.sum())
    if total <= STORE_BATCH_BYTES:
        return [encode_columns(vals, ks, timestamps, headers, skip)]
    ends = np.cumsum(sizes)
    cuts, start = [], 0
    while start < len(vals):  # each chunk: as many records as fit, at least one
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + STORE_BATCH_BYTES, side="right")), start + 1)
        cuts.append((start, stop))
        start = stop
    one_ts = isinstance(timestamps, int) or len(timestamps) != len(vals)  # one for all
    return [
        encode_columns(vals[a:b], None if ks is None else ks[a:b], timestamps if one_ts else timestamps[a:b],
                       None if headers is None else headers[a:b], skip)
        for a, b in cuts
    ]


def _lengths(arr: pa.Array) -> np.ndarray:
    """Byte length of each item of a binary array (0 for null)."""
    return pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def encode_records(records: Sequence[Record], now: int, skip: list[int] | None = None) -> list[Encoded]:
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
    return encode_chunks([r.value for r in records], keys if has_keys else None, ts, hdrs, skip)


def decode(rows: list[tuple], path: str, partition: int) -> list[pa.RecordBatch]:
    """Stored rows (base, count, crc, fmt, key, min_ts, blob) to batches of STORE_SCHEMA.

    Checks each row's CRC and record count; CorruptLogError names the file if either fails.
    Runs of raw single records become one batch.
    """
    out: list[pa.RecordBatch] = []
    raw: list[tuple] = []
    for base, count, crc, fmt, key, min_ts, blob in rows:
        where = f"partition {partition} offset {base}"
        if checksum(blob, key) != crc:
            raise CorruptLogError(path, f"checksum mismatch in the batch at {where}")
        if fmt == RAW:
            if count != 1:
                raise CorruptLogError(path, f"raw batch at {where} claims {count} records")
            raw.append((key, blob, min_ts))
            continue
        if raw:
            out.append(_raw_batch(raw))
            raw = []
        out.append(_full(_read(blob, fmt, path, where), fmt, min_ts, count, path, where))
    if raw:
        out.append(_raw_batch(raw))
    return out


def _read(blob: bytes, fmt: int, path: str, where: str) -> pa.RecordBatch:
    try:
        if fmt & LZ4:
            (size,) = _SIZE.unpack_from(blob)
            buf = pa.decompress(memoryview(blob)[8:], decompressed_size=size, codec="lz4", asbytes=False)
        else:
            buf = pa.py_buffer(blob)
        return pa.ipc.read_record_batch(buf, _SCHEMAS[fmt & 7])
    except (pa.ArrowInvalid, OSError, KeyError, struct.error) as e:
        raise CorruptLogError(path, f"unreadable batch at {where}: {e}") from e


def _full(b: pa.RecordBatch, fmt: int, min_ts: int, count: int, path: str, where: str) -> pa.RecordBatch:
    n = b.num_rows
    if n != count:
        raise CorruptLogError(path, f"batch at {where} holds {n} records, its index says {count}")
    cols = b.columns
    fmt &= 7
    key = cols.pop(0) if fmt & KEYS else pa.nulls(n, pa.binary())
    value = cols.pop(0)
    ts = cols.pop(0) if fmt & TIMESTAMPS else pa.array(np.full(n, min_ts, dtype=np.int64))
    hdrs = cols.pop(0) if fmt & HEADERS else pa.nulls(n, HEADERS_TYPE)
    return pa.RecordBatch.from_arrays([key, value, ts, hdrs], schema=STORE_SCHEMA)


def _raw_batch(raw: list[tuple]) -> pa.RecordBatch:
    keys, values, ts = zip(*raw, strict=True)
    return pa.RecordBatch.from_arrays(
        [pa.array(keys, pa.binary()), pa.array(values, pa.binary()), pa.array(ts, pa.int64()),
         pa.nulls(len(values), HEADERS_TYPE)],
        schema=STORE_SCHEMA,
    )


def to_output(parts: list[pa.RecordBatch], topic: str, partition: int, first_offset: int) -> pa.RecordBatch:
    """Join stored batches (already sliced) into one batch of `arrow_schema()`."""
    if len(parts) == 1:
        key, value, ts, hdrs = parts[0].columns
    else:
        t = pa.Table.from_batches(parts, STORE_SCHEMA).combine_chunks()
        key, value, ts, hdrs = (c.chunk(0) for c in t.columns)
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
