"""`parse_batches`: the parse over Arrow record batches, the shape Spark's `DataFrame.mapInArrow` wants.

    parsed = df.mapInArrow(parse_batches, PARSED_DDL)   # same call in streaming and in batch mode

Input: batches with a `value` column (binary or string, one log line per row) and, when present,
`topic`, `partition`, `offset`, `timestamp` (passed through; `timestamp`, the log append time, is the
time of lines that state none and gives year-less stamps their year). Output: `PARSED_SCHEMA`, one
row per record:
- each source (topic, partition) keeps its own `Detector`, so its layout is learned once;
- continuation lines (multiline.py) join their record: `message` and `raw` hold all its lines,
  `template` is the first line's. Within a Spark task a source's last record is held open from one
  Arrow batch to the next; continuation lines whose first line an earlier micro-batch (another
  task) read make a row of their own with `continuation` true (kept in the lake, never counted);
- `time_source` is "line", "inferred" (year-less stamp) or "log" (no time in the line: the log
  append time); `level_source` is "line" or "inferred";
- a row that cannot be read (null, not UTF-8, NUL bytes, no time and no log time) keeps its row
  with `error` set and the parsed fields null. `raw` holds the original bytes, so a bad or late
  line reaches the dead-letter topic exactly as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from riverbed.apps.logwatch.detect import Detector
from riverbed.apps.logwatch.multiline import looks_continued
from riverbed.apps.logwatch.parse import current_year, parse_record
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
        pa.field("time_source", pa.string()),
        pa.field("level_source", pa.string()),
        pa.field("continuation", pa.bool_()),
    ]
)

#: Spark DDL of PARSED_SCHEMA, for `df.mapInArrow(parse_batches, PARSED_DDL)`.
PARSED_DDL = (
    "time TIMESTAMP, level STRING, component STRING, message STRING, template STRING, format STRING, "
    "error STRING, raw BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP, "
    "time_source STRING, level_source STRING, continuation BOOLEAN"
)
_FIELDS = 10  # time, level, component, message, template, format, error, raw, time_source, level_source


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


def _log_times(batch: pa.RecordBatch) -> list[int | None]:
    """Each row's log append time in epoch ms, or None when the batch has no `timestamp`."""
    if "timestamp" not in batch.schema.names:
        return [None] * batch.num_rows
    col = batch.column("timestamp")
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    return pc.cast(col, pa.int64()).to_pylist()


def _bad(reason: str, raw: bytes | None, where: int) -> list:
    """An output row for an input row that cannot be read: the reason and the original bytes."""
    return [None] * 6 + [reason, raw, None, None, False, where]


def _keys(batch: pa.RecordBatch) -> list[tuple[object, object]] | tuple[object, object]:
    """Each row's source (topic, partition), or the one source of the whole batch (the usual case:
    a Spark task reads one partition)."""
    n, names = batch.num_rows, batch.schema.names
    cols = [batch.column(c) if c in names else pa.nulls(n) for c in ("topic", "partition")]
    if all(len(pc.unique(c)) <= 1 for c in cols):
        return (cols[0][0].as_py(), cols[1][0].as_py()) if n else (None, None)
    return list(zip(cols[0].to_pylist(), cols[1].to_pylist(), strict=True))


def _where(batch: pa.RecordBatch, i: int) -> tuple:
    """Row `i`'s pass-through values (topic, partition, offset, log time in ms), for a held record."""
    names = batch.schema.names
    vals = [batch.column(c)[i].as_py() if c in names else None for c in PASS_THROUGH[:3]]
    return (*vals, _log_times(batch.slice(i, 1))[0])


class BatchParser:
    """Parses the batches of one Spark task: per source, its learned layout and its open record.

    With `hold=True` each source's last record stays open until the next batch (or `flush`), so a
    record cut by an Arrow batch boundary is still one row.
    """

    def __init__(self, default_year: int | None = None, tz: str = "UTC", *, hold: bool = False) -> None:
        self.year = current_year() if default_year is None else default_year
        self.tz, self.hold = tz, hold
        self.ids: dict[tuple[object, object], int] = {}  # (topic, partition) -> source id
        self.detectors: dict[int, Detector] = {}
        self.held: dict[int, list] = {}  # source -> its open record's row
        self.templates: dict[str, str] = {}

    def parse(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Parse one batch into PARSED_SCHEMA (see the module docstring)."""
        if "value" not in batch.schema.names:
            raise LogParseError(f"input batch has no 'value' column (columns: {batch.schema.names})")
        sources, refs = _keys(batch), _log_times(batch)
        ids = self.ids  # a small int per source: the dictionaries below are looked up per row
        if isinstance(sources, tuple):
            keys = [ids.setdefault(sources, len(ids))] * batch.num_rows
        else:
            keys = [ids.setdefault(k, len(ids)) for k in sources]
        detectors = self.detectors
        for k in set(keys):
            if k not in detectors:
                detectors[k] = Detector()
        values = batch.column("value")
        # every row keeps its original bytes: a bad or late line is dead-lettered exactly as it arrived
        raws = (values if pa.types.is_binary(values.type) else pc.cast(values, pa.binary())).to_pylist()
        rows: list[list] = list(self.held.values())  # per output row: the fields, then where it came from
        open_rows = self.held  # source -> its open record's row
        self.held = {}
        templates, year, tz = self.templates, self.year, self.tz
        for i, value in enumerate(values.to_pylist()):
            key = keys[i]
            line, err = _decode(value)
            if err is None and "\x00" in line:  # type: ignore[operator]
                err = "binary data (NUL bytes)"
            if err is not None:
                rows.append(_bad(err, raws[i], i))
                continue
            text = line.rstrip()  # type: ignore[union-attr]
            rec = None
            if text:
                try:
                    rec = parse_record(text, year, refs[i], tz=tz, detector=detectors[key])
                except LogParseError as e:  # an impossible date, and no log time to count the line at
                    rows.append(_bad(e.reason, raws[i], i))
                    continue
                if rec[5] != "log":  # a line stating its time starts a record
                    msg = rec[3]
                    tmpl = templates.get(msg)
                    if tmpl is None:
                        tmpl = templates[msg] = mask(msg)
                    row = [rec[0], rec[1], rec[2], msg, tmpl, rec[4], None, raws[i], rec[5], rec[6], False, i]
                    open_rows[key] = row
                    rows.append(row)
                    continue
            row = open_rows.get(key)  # the source's open record: timed, untimed, or continuation lines
            if (row is not None and (row[10] or row[8] != "log")) or rec is None or looks_continued(text):
                if row is not None:  # join the open record
                    if text.strip():
                        row[3] = f"{row[3]}\n{text}"
                    row[7] = (row[7] or b"") + b"\n" + (raws[i] or b"")
                    continue
                # its first line was read in an earlier micro-batch (or is unknown): kept, never counted
                if refs[i] is None:
                    rows.append(_bad("continuation line with no log time", raws[i], i))
                else:
                    open_rows[key] = [refs[i], None, None, text, "", "continuation", None, raws[i], "log",
                                      None, True, i]
                    rows.append(open_rows[key])
                continue
            if rec is None or rec[0] is None:  # no time in the line and no log time to count it at
                rows.append(_bad("no recognisable timestamp", raws[i], i))
                continue
            open_rows[key] = self._row(rec, raws[i], i)
            rows.append(open_rows[key])
        if self.hold:
            self.held = open_rows
            kept = {id(r) for r in open_rows.values()}
            rows = [r for r in rows if id(r) not in kept]
            for r in open_rows.values():  # they outlive this batch: keep their own pass-through values
                if isinstance(r[11], int):
                    r[11] = _where(batch, r[11])
        return _build(rows, batch)

    def flush(self) -> pa.RecordBatch | None:
        """The records still held open (`hold=True`), as a last batch; None when there are none."""
        rows, self.held = list(self.held.values()), {}
        return _build(rows, None) if rows else None

    def _row(self, rec: tuple, raw: bytes | None, where: int | tuple) -> list:
        t, level, comp, msg, fmt, time_source, level_source = rec
        tmpl = self.templates.get(msg)
        if tmpl is None:
            tmpl = self.templates[msg] = mask(msg)
        return [t, level, comp, msg, tmpl, fmt, None, raw, time_source, level_source, False, where]


def _build(rows: list[list], batch: pa.RecordBatch | None) -> pa.RecordBatch:
    """PARSED_SCHEMA's columns from the rows: the fields, then the pass-through values, taken from
    `batch` by row index, or kept with the row (records held open from an earlier batch, first)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * (_FIELDS + 2)
    times = [t * 1000 if t is not None else None for t in cols[0]]
    held = []  # the records held open from an earlier batch come first
    for w in cols[11]:
        if not isinstance(w, tuple):
            break
        held.append(w)
    index = pa.array(cols[11][len(held) :], pa.int64())
    out: list[pa.Array] = [
        pa.array(times, pa.int64()).cast(_TS),
        *(pa.array(cols[k], pa.string()) for k in range(1, 7)),
        pa.array(cols[7], pa.binary()),
    ]
    for k, name in enumerate(PASS_THROUGH):
        field = PARSED_SCHEMA.field(name)
        if batch is None or name not in batch.schema.names:
            taken = pa.nulls(len(index), field.type)
        else:
            taken = pc.cast(batch.column(name).take(index), field.type)
        if held:
            kept = [w[k] for w in held]
            if name == "timestamp":  # kept in ms
                first = pa.array([t * 1000 if t is not None else None for t in kept], pa.int64()).cast(_TS)
            else:
                first = pa.array(kept, field.type)
            taken = pa.concat_arrays([first, taken])
        out.append(taken)
    out += [pa.array(cols[8], pa.string()), pa.array(cols[9], pa.string()), pa.array(cols[10], pa.bool_())]
    return pa.RecordBatch.from_arrays(out, schema=PARSED_SCHEMA)


def parse_batch(batch: pa.RecordBatch, *, default_year: int | None = None, tz: str = "UTC") -> pa.RecordBatch:
    """Parse one batch into PARSED_SCHEMA (see the module docstring), as a Spark task's first batch."""
    return BatchParser(default_year, tz).parse(batch)


def parse_batches(
    batches: Iterator[pa.RecordBatch], *, default_year: int | None = None, tz: str = "UTC"
) -> Iterator[pa.RecordBatch]:
    """Parse a stream of Arrow batches (the `mapInArrow` function): one output batch per input batch,
    each source's layout and open record carried to the next (its last records in one more batch)."""
    parser = BatchParser(default_year, tz, hold=True)
    for batch in batches:
        yield parser.parse(batch)
    last = parser.flush()
    if last is not None:
        yield last


def batches_parser(
    default_year: int, tz: str = "UTC"
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """`parse_batches` with a fixed year for year-less stamps without a log time, and a zone."""
    return partial(parse_batches, default_year=default_year, tz=tz)
