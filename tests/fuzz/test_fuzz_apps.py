"""Fuzz the app decoders: bitcoin `normalize` and buzz `normalise` give a result or a ValueError
with a reason for any JSON, never another exception."""

from __future__ import annotations

import json

from fuzzcount import cases
from hypothesis import given
from hypothesis import strategies as st
from strategies import ANY_JSON, dumps, mangled

from riverbed.apps.bitcoin.normalize import PRICE_KINDS, Tick, normalize
from riverbed.apps.buzz.normalise import normalise

#: valid messages of each shape the bitcoin app reads (the fuzz mangles their fields)
BITCOIN_SHAPES = [
    {"type": "match", "product_id": "BTC-USD", "price": "5.8", "size": "1", "time": "2011-09-13T13:53:36Z",
     "trade_id": 1, "sequence": 7},
    {"type": "ticker", "product_id": "BTC-USD", "price": "56000.1", "last_size": "0.01",
     "time": "2021-04-17T16:43:37.123456789Z", "sequence": 9},
    {"type": "trade", "product_id": "BTC-USD", "price": 5.8, "size": 2.0, "time": 1316000000,
     "source": "bitstamp"},
    {"type": "bar", "product_id": "BTC-USD", "open": 1, "high": 3, "low": 0.5, "close": 2, "volume": 10,
     "time": 1403481600000},
    {"type": "index", "product_id": "BTC-AUD", "price": 800.5, "time": "2014-01-01T00:00:00Z",
     "source": "coindesk-bpi"},
    {"channel": "market_trades", "product_id": "BTC-USD", "price": "1", "size": "2",
     "time": "2024-01-01T00:00:00Z", "trade_id": "12", "timestamp": "2024-01-01T00:00:00Z",
     "sequence_num": 3},
    {"channel": "ticker", "product_id": "BTC-USD", "price": "1", "timestamp": "2024-01-01T00:00:00Z"},
    {"channel": "candles", "product_id": "BTC-USD", "open": "1", "high": "2", "low": "0.5", "close": "1.5",
     "volume": "3", "start": "1704067200"},
    {"channel": "heartbeats", "timestamp": "2024-01-01T00:00:00Z", "heartbeat_counter": 5},
    {"type": "heartbeat", "product_id": "BTC-USD", "time": "2024-01-01T00:00:00Z", "sequence": 1},
]

BUZZ_SHAPES = [
    {"id": "1", "type": "PushEvent", "created_at": "2016-07-07T00:00:00Z", "actor": {"login": "a"},
     "repo": {"name": "o/r"}, "payload": {"commits": [{"message": "fix #spark"}]}},
    {"data": {"id": "9", "text": "hello #Spark", "created_at": "2019-01-01T00:00:00.000Z", "author_id": "5",
              "entities": {"hashtags": [{"tag": "Spark"}]}},
     "includes": {"users": [{"id": "5", "username": "u"}]}},
    {"id": "9", "text": "flat tweet", "created_at": "2019-01-01T00:00:00.000Z", "lang": "en"},
    {"did": "did:plc:x", "time_us": 1725911162000000, "kind": "commit", "commit": {
        "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3l", "record": {
            "text": "post #tag", "langs": ["en"], "facets": [{"features": [
                {"$type": "app.bsky.richtext.facet#tag", "tag": "Tag"}]}]}}},
    {"rsvp_id": 1, "mtime": 1602629755622, "member": {"member_name": "m"}, "event": {"event_name": "e"},
     "group": {"group_name": "g", "group_topics": [{"urlkey": "python"}]}},
]


def test_the_shapes_are_valid() -> None:
    for shape in BITCOIN_SHAPES:
        assert isinstance(normalize(shape), Tick), shape
    for shape in BUZZ_SHAPES:
        assert normalise(json.dumps(shape))["terms"] is not None, shape


def _bitcoin(obj: object) -> None:
    try:
        tick = normalize(obj)
    except ValueError as e:
        assert str(e).strip()
        return
    assert isinstance(tick, Tick)
    if tick.kind in PRICE_KINDS:
        assert tick.price is not None and tick.price > 0 and tick.time_us is not None


@given(obj=st.one_of(*(mangled(s) for s in BITCOIN_SHAPES)))
def test_bitcoin_normalize_mangled_shapes(obj: dict) -> None:
    cases("bitcoin.normalize (mangled shapes)")
    _bitcoin(obj)


@given(obj=ANY_JSON)
def test_bitcoin_normalize_any_json(obj: object) -> None:
    cases("bitcoin.normalize (any JSON)")
    _bitcoin(obj)


def _buzz(value: bytes | str) -> None:
    try:
        row = normalise(value)
    except ValueError as e:
        assert str(e).strip()
        return
    assert row["source"] in ("github", "twitter", "bluesky", "meetup")
    assert isinstance(row["time"], int) and isinstance(row["terms"], list)


def _nested_mangle(shape: dict) -> st.SearchStrategy[dict]:
    """Mangle the top level, or one nested object of the shape."""
    nested = [k for k, v in shape.items() if isinstance(v, dict)]
    if not nested:
        return mangled(shape)
    return st.one_of(mangled(shape), st.sampled_from(nested).flatmap(
        lambda k: mangled(shape[k]).map(lambda inner: {**shape, k: inner})))


@given(obj=st.one_of(*(_nested_mangle(s) for s in BUZZ_SHAPES)))
def test_buzz_normalise_mangled_shapes(obj: dict) -> None:
    cases("buzz.normalise (mangled shapes)")
    _buzz(dumps(obj))


@given(value=st.one_of(ANY_JSON.map(dumps), st.binary(max_size=100), st.text(max_size=100)))
def test_buzz_normalise_any_input(value: bytes | str) -> None:
    cases("buzz.normalise (any input)")
    _buzz(value)
