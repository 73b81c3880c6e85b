"""Fuzz the logwatch parse: any text or bytes -> a ParsedLine or LogParseError, never a crash."""

from __future__ import annotations

import pyarrow as pa
from fuzzcount import cases
from hypothesis import given
from hypothesis import strategies as st
from strategies import REAL_LINES, near_miss, text_lines

from riverbed.apps.logwatch.arrow import PARSED_SCHEMA, parse_batch, parse_batches
from riverbed.apps.logwatch.parse import FORMATS, ParsedLine, parse_line
from riverbed.errors import LogParseError


def test_the_real_lines_parse() -> None:
    """The seeds of the near misses are good lines (otherwise the near misses prove little)."""
    for line in REAL_LINES:
        assert isinstance(parse_line(line, default_year=2024), ParsedLine), line


@given(line=text_lines(), year=st.one_of(st.none(), st.integers(1, 9999)))
def test_parse_line_returns_a_line_or_a_reasoned_error(line: str, year: int | None) -> None:
    cases("logwatch.parse_line")
    try:
        got = parse_line(line, default_year=year)
    except LogParseError as e:
        assert e.reason and e.reason.strip(), f"empty reason for {line!r}"
        return
    assert isinstance(got, ParsedLine)
    assert isinstance(got.time, int) and got.format in FORMATS
    assert got.level and got.level == got.level.upper()


@given(data=st.binary(max_size=200))
def test_parse_line_on_bytes_decoded_leniently(data: bytes) -> None:
    cases("logwatch.parse_line(bytes)")
    try:
        parse_line(data.decode("utf-8", "replace"), default_year=2020)
    except LogParseError as e:
        assert e.reason


def _encode(s: str) -> bytes:
    """UTF-8, with lone surrogates (which hypothesis may draw) kept as the invalid bytes they make."""
    return s.encode("utf-8", "surrogatepass")


_VALUE = st.one_of(st.none(), st.binary(max_size=80), near_miss().map(_encode),
                   st.sampled_from(REAL_LINES).map(_encode), st.text(max_size=40).map(_encode))


@given(values=st.lists(_VALUE, max_size=30), as_text=st.booleans(), with_meta=st.booleans())
def test_parse_batch_keeps_every_row_and_its_bytes(values: list[bytes | None], as_text: bool,
                                                   with_meta: bool) -> None:
    cases("logwatch.parse_batch", 1)
    cases("logwatch.parse_batch rows", len(values))
    if as_text:  # a string column: only valid UTF-8 can be in it
        col = pa.array([v.decode("utf-8", "replace") if v is not None else None for v in values], pa.string())
    else:
        col = pa.array(values, pa.binary())
    arrays, names = [col], ["value"]
    if with_meta:
        n = len(values)
        arrays += [pa.array(["t"] * n), pa.array([0] * n, pa.int32()), pa.array(range(n), pa.int64())]
        names += ["topic", "partition", "offset"]
    batch = pa.RecordBatch.from_arrays(arrays, names=names)
    out = parse_batch(batch, default_year=2021)
    assert out.schema == PARSED_SCHEMA
    rows = out.to_pylist()
    raws = col.cast(pa.binary()).to_pylist()
    # every input line is in exactly one output row: alone, or joined by "\n" to the record it continues
    kept = [r["raw"] for r in rows if r["raw"] is not None]
    given = [v for v in raws if v is not None]
    assert sum(map(len, kept)) == sum(map(len, given)) + len(given) - len(kept)
    assert sum(r["error"] == "null value" for r in rows) == raws.count(None)
    assert out.num_rows <= len(values)
    for row in rows:
        if row["error"] is None:
            assert row["time"] is not None and row["format"] in FORMATS and row["template"] is not None
            assert row["time_source"] in ("line", "inferred", "log")
            assert row["continuation"] or row["level_source"] in ("line", "inferred")
        else:
            assert row["error"].strip() and row["time"] is None and row["level"] is None
    for raw in raws:  # undecodable input is never joined to a record: it keeps a row of its own
        if raw is not None and (b"\x00" in raw or _invalid_utf8(raw)):
            assert raw in kept


def _invalid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@given(batches=st.lists(st.lists(_VALUE, max_size=8), max_size=4))
def test_parse_batches_one_output_per_input_and_the_held_records(batches: list[list[bytes | None]]) -> None:
    cases("logwatch.parse_batches")
    inputs = [pa.RecordBatch.from_arrays([pa.array(b, pa.binary())], names=["value"]) for b in batches]
    outs = list(parse_batches(iter(inputs), default_year=2022))
    assert len(outs) in (len(inputs), len(inputs) + 1)  # + the records held open to the end
    assert sum(o.num_rows for o in outs) <= sum(map(len, batches))
    assert sum(o.num_rows for o in outs) >= sum(v is None for b in batches for v in b)
    assert all(o.schema == PARSED_SCHEMA for o in outs)
