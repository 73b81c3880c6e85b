"""Fuzz the bitcoin and buzz pipelines' Arrow parse (what Spark's mapInArrow runs): any batch of
record values parses without raising, and every error row keeps a reason and its original bytes."""

from __future__ import annotations

import pyarrow as pa
from fuzzcount import cases
from hypothesis import given
from hypothesis import strategies as st
from strategies import ANY_JSON, dumps, mangled
from test_fuzz_apps import BITCOIN_SHAPES, BUZZ_SHAPES

from riverbed.apps.bitcoin import parse as btc
from riverbed.apps.buzz import parse as buzz

_BTC_VALUES = st.one_of(st.none(), st.binary(max_size=40), ANY_JSON.map(dumps),
                        st.one_of(*(mangled(s) for s in BITCOIN_SHAPES)).map(dumps))
_BUZZ_VALUES = st.one_of(st.none(), st.binary(max_size=40), ANY_JSON.map(dumps),
                         st.one_of(*(mangled(s) for s in BUZZ_SHAPES)).map(dumps),
                         st.sampled_from(BUZZ_SHAPES[1:3]).flatmap(lambda s: mangled(s.get("data", s)))
                         .map(lambda d: dumps({"data": d})))


def _batch(values: list[bytes | None]) -> pa.RecordBatch:
    n = len(values)
    return pa.RecordBatch.from_arrays(
        [pa.array(values, pa.binary()), pa.array(["t"] * n), pa.array([0] * n, pa.int32()),
         pa.array(range(n), pa.int64())], names=["value", "topic", "partition", "offset"])


@given(values=st.lists(_BTC_VALUES, max_size=12))
def test_bitcoin_parse_batch(values: list[bytes | None]) -> None:
    cases("bitcoin.parse_batch rows", len(values))
    out = btc.parse_batch(_batch(values)).to_pylist()
    assert len(out) <= len(values)  # skipped messages (no time) are dropped, never invented
    for row in out:
        assert (row["error"] is None) == (row["product"] is not None or row["kind"] is not None)
        if row["error"] is not None:
            assert row["error"].strip() and row["raw"] in values


@given(values=st.lists(_BUZZ_VALUES, max_size=12))
def test_buzz_parse_batch(values: list[bytes | None]) -> None:
    cases("buzz.parse_batch rows", len(values))
    out = buzz.parse_batch(_batch(values)).to_pylist()
    assert len(out) == len(values)
    for row, raw in zip(out, values, strict=True):
        assert row["raw"] == raw
        assert (row["error"] is None) == (row["source"] is not None)
