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
from riverbed.apps.logwatch.parse import current_year, read_record
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
    record cut by an Arrow batch boundary is still one row. Output columns are kept aligned with
    the input rows (as lists filled by index); the rows joined to a record are filtered out at the end.
    """

    def __init__(self, default_year: int | None = None, tz: str = "UTC", *, hold: bool = False) -> None:
        self.year = current_year() if default_year is None else default_year
        self.tz, self.hold = tz, hold
        self.ids: dict[tuple[object, object], int] = {}  # (topic, partition) -> source id
        self.detectors: dict[int, Detector] = {}
        self.held: dict[int, list] = {}  # source -> its open record, as a row (fields + `_where`)
        self.templates: dict[str, str] = {}

    def parse(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Parse one batch into PARSED_SCHEMA (see the module docstring)."""
        if "value" not in batch.schema.names:
            raise LogParseError(f"input batch has no 'value' column (columns: {batch.schema.names})")
        n = batch.num_rows
        sources, refs = _keys(batch), _log_times(batch)
        ids, detectors = self.ids, self.detectors  # a small int per source: looked up per row
        keys = [ids.setdefault(sources, len(ids))] * n if isinstance(sources, tuple) else \
            [ids.setdefault(k, len(ids)) for k in sources]
        for k in set(keys):
            if k not in detectors:
                detectors[k] = Detector()
        values = batch.column("value")
        # every row keeps its original bytes: a bad or late line is dead-lettered exactly as it arrived
        raws = (values if pa.types.is_binary(values.type) else pc.cast(values, pa.binary())).to_pylist()
        times: list[int | None] = [None] * n
        levels: list[str | None] = [None] * n
        comps: list[str | None] = [None] * n
        msgs: list[str | None] = [None] * n
        tmpls: list[str | None] = [None] * n
        fmts: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        tsrc: list[str | None] = [None] * n
        lsrc: list[str | None] = [None] * n
        cont = [False] * n
        joined: list[int] = []  # rows joined to an open record (or held open): not output here
        opened: dict[int, int | list] = dict(self.held)  # source -> its open record: a row index here,
        closed: list[list] = []  # or a held row; held rows closed in this batch are output first
        self.held = {}
        if len(self.templates) > 100_000:  # a cache of the task's messages: bounded
            self.templates.clear()
        templates, year, tz = self.templates, self.year, self.tz
        for i, value in enumerate(values.to_pylist()):
            key = keys[i]
            if type(value) is bytes:
                try:
                    line, err = value.decode(), None
                except UnicodeDecodeError:
                    line, err = _decode(value)
            else:
                line, err = _decode(value)
            if err is None and "\x00" in line:  # type: ignore[operator]
                err = "binary data (NUL bytes)"
            if err is not None:
                errors[i] = err
                continue
            text = line.rstrip()  # type: ignore[union-attr]
            rec = None
            if text:
                try:
                    rec = read_record(text, year, refs[i], tz, detectors[key], True)
                except LogParseError as e:  # an impossible date, and no log time to count the line at
                    errors[i] = e.reason
                    continue
                if rec[5] != "log":  # a line stating its time starts a record
                    times[i], levels[i], comps[i], msg, fmts[i], tsrc[i], lsrc[i] = rec
                    msgs[i] = msg
                    tmpl = templates.get(msg)  # type: ignore[arg-type]
                    if tmpl is None:
                        tmpl = templates[msg] = mask(msg)  # type: ignore[arg-type,index]
                    tmpls[i] = tmpl
                    prev = opened.get(key)
                    if type(prev) is list:
                        closed.append(prev)
                    opened[key] = i
                    continue
            o = opened.get(key)  # the source's open record: timed, untimed, or continuation lines
            if o is not None:
                timed = cont[o] or tsrc[o] != "log" if type(o) is int else o[10] or o[8] != "log"
            if (o is not None and timed) or rec is None or looks_continued(text):
                if o is None:  # its first line was read in an earlier micro-batch (or is unknown)
                    if refs[i] is None:
                        errors[i] = "continuation line with no log time"
                    else:  # kept, never counted
                        times[i], msgs[i], tmpls[i], fmts[i], tsrc[i], cont[i] = (
                            refs[i], text, "", "continuation", "log", True)
                        opened[key] = i
                    continue
                joined.append(i)
                if type(o) is int:
                    if text.strip():
                        msgs[o] = f"{msgs[o]}\n{text}"
                    raws[o] = (raws[o] or b"") + b"\n" + (raws[i] or b"")
                else:
                    if text.strip():
                        o[3] = f"{o[3]}\n{text}"
                    o[7] = (o[7] or b"") + b"\n" + (raws[i] or b"")
                continue
            if rec is None or rec[0] is None:  # no time in the line and no log time to count it at
                errors[i] = "no recognisable timestamp"
                continue
            times[i], levels[i], comps[i], msg, fmts[i], tsrc[i], lsrc[i] = rec
            msgs[i], tmpls[i] = msg, mask(msg)
            prev = opened.get(key)
            if type(prev) is list:
                closed.append(prev)
            opened[key] = i
        cols = [times, levels, comps, msgs, tmpls, fmts, errors, raws, tsrc, lsrc, cont]
        for key, o in opened.items():
            if not self.hold:
                if type(o) is list:
                    closed.append(o)
            elif type(o) is int:  # held open to the next batch: out of this one
                self.held[key] = [c[o] for c in cols] + [_where(batch, o)]
                joined.append(o)
            else:
                self.held[key] = o
        out = _arrays(cols, [pc.cast(batch.column(name), PARSED_SCHEMA.field(name).type)
                             if name in batch.schema.names else pa.nulls(n, PARSED_SCHEMA.field(name).type)
                             for name in PASS_THROUGH])
        if joined:
            keep = [True] * n
            for i in joined:
                keep[i] = False
            out = out.filter(pa.array(keep, pa.bool_()))
        if closed:
            out = pa.concat_batches([_rows(closed), out])
        return out

    def flush(self) -> pa.RecordBatch | None:
        """The records still held open (`hold=True`), as a last batch; None when there are none."""
        rows, self.held = list(self.held.values()), {}
        return _rows(rows) if rows else None


def _arrays(cols: list[list], passed: list[pa.Array]) -> pa.RecordBatch:
    """PARSED_SCHEMA from the field columns (times in ms) and the pass-through arrays."""
    times, levels, comps, msgs, tmpls, fmts, errors, raws, tsrc, lsrc, cont = cols
    return pa.RecordBatch.from_arrays([
        pa.array([t * 1000 if t is not None else None for t in times], pa.int64()).cast(_TS),
        *(pa.array(c, pa.string()) for c in (levels, comps, msgs, tmpls, fmts, errors)),
        pa.array(raws, pa.binary()),
        *passed,
        pa.array(tsrc, pa.string()),
        pa.array(lsrc, pa.string()),
        pa.array(cont, pa.bool_()),
    ], schema=PARSED_SCHEMA)


def _rows(rows: list[list]) -> pa.RecordBatch:
    """Held records (fields, then their pass-through values) as a batch."""
    cols = [list(c) for c in zip(*rows, strict=True)]
    where = list(zip(*cols[11], strict=True))
    passed = [pa.array(where[k], PARSED_SCHEMA.field(name).type) for k, name in enumerate(PASS_THROUGH[:3])]
    passed.append(pa.array([t * 1000 if t is not None else None for t in where[3]], pa.int64()).cast(_TS))
    return _arrays(cols[:11], passed)


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
