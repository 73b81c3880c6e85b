"""The buzz parse step over Arrow batches (for `DataFrame.mapInArrow`): the same in stream and batch.

Each input row (a log record of any buzz topic) becomes one row of PARSED_DDL; a record that is
not JSON, or not a format `normalise` knows, keeps its row with `error` set and its original bytes
in `raw`, so the pipeline sends it to `<topic>.dlq` with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from riverbed.apps.buzz.normalise import normalise

_TS = pa.timestamp("us", tz="UTC")
FIELDS = ("source", "id", "time", "author", "text", "hashtags", "terms", "lang", "repo", "type")
PARSED_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()), pa.field("id", pa.string()), pa.field("time", _TS),
        pa.field("author", pa.string()), pa.field("text", pa.string()),
        pa.field("hashtags", pa.list_(pa.string())), pa.field("terms", pa.list_(pa.string())),
        pa.field("lang", pa.string()), pa.field("repo", pa.string()), pa.field("type", pa.string()),
        pa.field("error", pa.string()), pa.field("raw", pa.binary()),
        pa.field("topic", pa.string()), pa.field("partition", pa.int32()), pa.field("offset", pa.int64()),
        pa.field("timestamp", _TS),
    ]
)
PARSED_DDL = (
    "source STRING, id STRING, time TIMESTAMP, author STRING, text STRING, hashtags ARRAY<STRING>, "
    "terms ARRAY<STRING>, lang STRING, repo STRING, type STRING, error STRING, raw BINARY, "
    "topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP"
)
PASS_THROUGH = ("topic", "partition", "offset", "timestamp")


def parse_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Normalise one batch of log records into PARSED_SCHEMA."""
    values = batch.column("value")
    raws = values.to_pylist() if pa.types.is_binary(values.type) else pc.cast(values, pa.binary()).to_pylist()
    cols: dict[str, list] = {f: [] for f in (*FIELDS, "error")}
    for raw in raws:
        try:
            if raw is None:
                raise ValueError("null value")
            row = normalise(raw)
            row["time"] = row["time"] * 1000
            err = None
        except ValueError as e:
            row, err = dict.fromkeys(FIELDS), str(e) or "unparsable record"
        for f in FIELDS:
            cols[f].append(row[f])
        cols["error"].append(err)
    arrays = [
        pa.array(cols[f], PARSED_SCHEMA.field(f).type if f != "time" else pa.int64()) for f in FIELDS
    ]
    arrays[FIELDS.index("time")] = arrays[FIELDS.index("time")].cast(_TS)
    arrays += [pa.array(cols["error"], pa.string()), pa.array(raws, pa.binary())]
    n = batch.num_rows
    for name in PASS_THROUGH:
        field = PARSED_SCHEMA.field(name)
        arrays.append(pc.cast(batch.column(name), field.type) if name in batch.schema.names
                      else pa.nulls(n, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=PARSED_SCHEMA)


def parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The `mapInArrow` function: one output batch per input batch."""
    for batch in batches:
        yield parse_batch(batch)
