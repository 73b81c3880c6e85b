"""The failing examples the fuzzing found, kept as plain regression tests (one per fix)."""

from __future__ import annotations

import pytest

from riverbed.apps.bitcoin.parse import parse_value
from riverbed.cli.produce import BadLine, key_of
from riverbed.connectors._http import json_object
from riverbed.connectors.base import Rejected
from riverbed.connectors.coinbase import CoinbaseSource
from riverbed.connectors.github import GitHubEventsSource
from riverbed.connectors.replay import json_time

#: found by test_coinbase_frames: json.loads raises RecursionError (not ValueError) on deep nesting
DEEP = [b"[" * 100_000, b'{"a":' * 100_000]


@pytest.mark.parametrize("raw", DEEP, ids=["array", "object"])
def test_deeply_nested_json_is_a_reasoned_reject_everywhere(raw: bytes) -> None:
    [item] = CoinbaseSource(["BTC-USD"], url="ws://127.0.0.1:9")._frame(raw)
    assert isinstance(item, Rejected) and "malformed frame" in item.reason
    assert isinstance(json_object(raw), Rejected)  # Twitter, Jetstream, Meetup lines
    [item] = GitHubEventsSource(repo="o/r")._events(raw)
    assert isinstance(item, Rejected) and "not JSON" in item.reason
    row, err = parse_value(raw)  # the bitcoin pipeline's parse
    assert row is None and err and err.startswith("not JSON")
    with pytest.raises(BadLine, match="nested too deeply"):
        key_of(raw, "k")
    assert json_time(["time"])(raw) is None
