"""One schema for every price feed: Coinbase Exchange and Advanced Trade messages, replayed history
(trades and OHLC bars) and the CoinDesk price index all become `Tick`s.

    >>> normalize({"type": "match", "product_id": "BTC-USD", "price": "5.8", "size": "1",
    ...            "time": "2011-09-13T13:53:36Z", "trade_id": 1, "sequence": 7}).kind
    'trade'

Kinds: `trade` (Exchange `match`/`last_match`, Advanced `market_trades` items, replayed trades),
`ticker` (Exchange and Advanced tickers: the same trades again, so the pipeline uses either trades
or tickers, never both), `bar` (a replayed OHLC bar), `index` (a price-index value), `candle`
(Advanced candles, re-sent while they form), `heartbeat`. Other messages (subscriptions,
snapshot, l2update, status ...) are `skip`: kept only when they carry a time. A message that
claims to be one of the price kinds but has a missing or bad field raises `ValueError` with the
reason, which becomes the dead-letter reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from riverbed.timeutil import time_us

PRICE_KINDS = ("trade", "ticker", "bar", "index", "candle")


@dataclass(frozen=True, slots=True)
class Tick:
    """A normalised message: price fields are None for heartbeats and skipped messages."""

    kind: str
    product: str | None
    time_us: int | None
    price: float | None = None
    size: float | None = None
    open: float | None = None
    high: float | None = None
    low: float | None = None
    seq: int | None = None
    source: str = "coinbase"


def number(obj: dict[str, Any], key: str, *, positive: bool = True, required: bool = True) -> float | None:
    """A numeric field (JSON number or decimal string) as float; ValueError naming the field if bad."""
    v = obj.get(key)
    if v is None:
        if required:
            raise ValueError(f"{key} is missing")
        return None
    if isinstance(v, bool):
        raise ValueError(f"{key} {v!r} is not a number")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{key} {v!r} is not a number") from None
    if not math.isfinite(f) or f < 0 or (positive and f == 0):
        raise ValueError(f"{key} {v!r} is not a {'positive' if positive else 'non-negative'} number")
    return f


def _product(obj: dict[str, Any]) -> str:
    p = obj.get("product_id")
    if not isinstance(p, str) or not p:
        raise ValueError("product_id is missing")
    return p


def _seq(obj: dict[str, Any], *keys: str) -> int | None:
    """The first of `keys` holding a whole number that fits 64 bits (the seq column), else None."""
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 19:
            v = int(v)
        if isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63:
            return v
    return None


def _exchange(obj: dict[str, Any], typ: str) -> Tick:
    """Coinbase Exchange feed messages (and riverbed's replayed history, which uses its shapes)."""
    src = obj.get("source") if isinstance(obj.get("source"), str) else "coinbase"
    if typ in ("match", "last_match", "trade"):
        p = number(obj, "price")
        return Tick("trade", _product(obj), time_us(obj.get("time")), p, number(obj, "size", positive=False),
                    p, p, p, _seq(obj, "sequence", "trade_id"), src)
    if typ == "ticker":
        p = number(obj, "price")
        size = number(obj, "last_size", positive=False, required=False) or 0.0
        return Tick("ticker", _product(obj), time_us(obj.get("time")), p, size, p, p, p,
                    _seq(obj, "sequence"), src)
    if typ == "bar":
        o, h, lo, c = (number(obj, k) for k in ("open", "high", "low", "close"))
        if not (lo <= min(o, c) and h >= max(o, c)):  # type: ignore[operator]
            raise ValueError(f"bar high/low {h}/{lo} do not enclose open/close {o}/{c}")
        return Tick("bar", _product(obj), time_us(obj.get("time")), c, number(obj, "volume", positive=False),
                    o, h, lo, None, src)
    if typ == "index":
        p = number(obj, "price")
        return Tick("index", _product(obj), time_us(obj.get("time")), p, 0.0, p, p, p, None, src)
    t = time_us(obj["time"]) if obj.get("time") is not None else None
    product = obj.get("product_id") if isinstance(obj.get("product_id"), str) else None
    kind = "heartbeat" if typ == "heartbeat" else "skip"
    return Tick(kind, product, t, seq=_seq(obj, "sequence"), source=src)


def _advanced(obj: dict[str, Any], channel: str) -> Tick:
    """One item of a Coinbase Advanced Trade message, flattened by the connector: the item's fields
    plus the envelope's `channel`, `timestamp` and `sequence_num`."""
    seq = _seq(obj, "sequence_num")
    if channel == "market_trades":
        p = number(obj, "price")
        return Tick("trade", _product(obj), time_us(obj.get("time")), p, number(obj, "size", positive=False),
                    p, p, p, _seq(obj, "trade_id"), "coinbase-advanced")
    if channel in ("ticker", "ticker_batch"):
        p = number(obj, "price")
        return Tick("ticker", _product(obj), time_us(obj.get("timestamp"), "timestamp"), p, 0.0, p, p, p,
                    seq, "coinbase-advanced")
    if channel == "candles":
        o, h, lo, c = (number(obj, k) for k in ("open", "high", "low", "close"))
        return Tick("candle", _product(obj), time_us(obj.get("start"), "start"), c,
                    number(obj, "volume", positive=False), o, h, lo, seq, "coinbase-advanced")
    t = time_us(obj["timestamp"], "timestamp") if obj.get("timestamp") is not None else None
    kind = "heartbeat" if channel == "heartbeats" else "skip"
    return Tick(kind, None, t, seq=seq, source="coinbase-advanced")


def normalize(obj: Any) -> Tick:
    """The Tick for one decoded JSON message; ValueError (the dead-letter reason) if it is unusable."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    channel, typ = obj.get("channel"), obj.get("type")
    try:
        if isinstance(channel, str):
            return _advanced(obj, channel)
        if isinstance(typ, str):
            return _exchange(obj, typ)
    except ValueError as e:
        raise ValueError(f"{channel or typ}: {e}") from None
    raise ValueError("not a price message: no 'type' (Exchange feed) or 'channel' (Advanced Trade)")


def check_message(obj: dict[str, Any]) -> str | None:
    """The check the Coinbase and BPI connectors run on each message (their `check=`): the record
    key (the product, None if it has none), or ValueError, the dead-letter reason, if unusable."""
    return normalize(obj).product or None
