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
