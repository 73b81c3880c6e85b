"""Decoding JSON record values into Arrow columns in the log source (option valueSchema)."""

from __future__ import annotations

import pyarrow as pa

from riverbed.spark.jsonvalues import decode


def test_json_values_decode_fast_path_and_per_record_fallback() -> None:
    struct = pa.struct([("a", pa.string()), ("n", pa.int64())])
    good = pa.array([b'{"a": "x", "n": 1}', b'{"n": 2, "extra": [1]}'], pa.binary())
    rows, errors = decode(good, struct)
    assert isinstance(rows, pa.Array) and isinstance(errors, pa.Array)  # record batch columns
    assert rows.to_pylist() == [{"a": "x", "n": 1}, {"a": None, "n": 2}] and errors.null_count == 2
    mixed = pa.array([b'{"a": "y",\n "n": 3}', None, b"[1]", b'{"n": "three"}', b"{oops", b'{"a": "z"}'],
                     pa.binary())
    rows, errors = decode(mixed, struct)
    assert rows.to_pylist() == [{"a": "y", "n": 3}, None, None, None, None, {"a": "z", "n": None}]
    errs = errors.to_pylist()
    assert errs[0] is None and errs[1] == "empty record" and errs[2] == "not a JSON object"
    assert errs[3].startswith("JSON does not fit the schema") and errs[4].startswith("JSON does not fit")
    assert errs[5] is None


def test_the_fast_path_joins_any_slice_in_arrow_and_refuses_what_is_not_one_value_per_line() -> None:
    from riverbed.spark.jsonvalues import _lines

    struct = pa.struct([("a", pa.string()), ("n", pa.int64())])
    values = [f'{{"a": "v{i}", "n": {i}}}'.encode() for i in range(10)]
    for typ in (pa.binary(), pa.large_binary(), pa.string(), pa.large_string()):
        text = pa.types.is_string(typ) or pa.types.is_large_string(typ)
        arr = pa.array([v.decode() if text else v for v in values], typ).slice(3, 4)
        assert _lines(arr).to_pybytes() == b"\n".join(values[3:7])
        rows, errors = decode(arr, struct)
        assert rows.to_pylist() == [{"a": f"v{i}", "n": i} for i in range(3, 7)] and errors.null_count == 4
    # a null, an empty value or a newline inside a value: each record is decoded alone instead
    for odd in (None, b"", b'{"a":\n"w", "n": 7}'):
        arr = pa.array([values[0], odd, values[1]], pa.binary())
        assert _lines(arr) is None
        rows, errors = decode(arr, struct)
        assert rows.to_pylist()[0] == {"a": "v0", "n": 0} and rows.to_pylist()[2] == {"a": "v1", "n": 1}
        assert rows.to_pylist()[1] == (None if odd != b'{"a":\n"w", "n": 7}' else {"a": "w", "n": 7})
    assert _lines(pa.array([], pa.binary())) is None
