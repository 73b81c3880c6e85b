"""Coinbase market data over WebSocket: the Exchange feed and the Advanced Trade feed, as records.

    >>> src = CoinbaseSource(["BTC-USD", "ETH-USD"])                       # doctest: +SKIP
    >>> Ingestor(log, "prices").run(src, duration=60); print(src.stats.line())  # doctest: +SKIP

Exchange feed (`feed="exchange"`, wss://ws-feed.exchange.coinbase.com): one subscribe message
`{"type": "subscribe", "product_ids": [...], "channels": ["ticker", "matches", "heartbeat"]}`; each
ticker, match and heartbeat message becomes one record as it came. Advanced Trade feed
(`feed="advanced"`, wss://advanced-trade-ws.coinbase.com): one subscribe message per channel
(`{"type": "subscribe", "product_ids": [...], "channel": "market_trades"}`); each item of a message's
`events` (a trade, a ticker, a candle, a heartbeat) becomes one record: the item's fields plus the
message's `channel`, `timestamp` and `sequence_num`. Records are keyed by product.

When the connection drops, the source reconnects with exponential backoff and subscribes again.
Sequence checks, counted in `stats`: Exchange trade ids per product must go up by one (a jump is a
gap: trades missed), and a `sequence` below one already seen is out of order; Advanced Trade's
`sequence_num` must go up by one per message on a connection. Frames that are not JSON, error
messages and messages the app's `check` refuses go to the dead-letter topic with the reason;
subscriptions, snapshots, l2update and other non-price messages are counted and skipped.

`check` (see `riverbed.connectors.base.Check`) is the app's test of each kept message: it returns
the record key or raises ValueError (the dead-letter reason); the bitcoin app's is
`riverbed.apps.bitcoin.normalize.check_message`. Without one, every kept message is a record keyed
by its `product_id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from riverbed.connectors.base import Check, Item, Rejected, Source
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record

FEEDS = {
    "exchange": ("wss://ws-feed.exchange.coinbase.com", ("ticker", "matches", "heartbeat")),
    "advanced": ("wss://advanced-trade-ws.coinbase.com",
                 ("ticker", "market_trades", "candles", "heartbeats")),
}
_EXCHANGE_KEEP = ("ticker", "match", "last_match", "heartbeat")
_ADVANCED_ITEMS = {  # channel -> the list of items in each of its events
    "market_trades": "trades", "ticker": "tickers", "ticker_batch": "tickers", "candles": "candles",
}


@dataclass
class FeedStats:
    """What the feed did: connections, messages, and the sequence checks."""

    connects: int = 0
    disconnects: int = 0
    failed_connects: int = 0
    messages: int = 0
    records: int = 0
    rejected: int = 0
    gaps: int = 0
    missing: int = 0
    out_of_order: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "none"
        return (f"{self.connects} connection(s), {self.disconnects} dropped; {self.messages} messages -> "
                f"{self.records} records, {self.rejected} rejected; sequence gaps {self.gaps} "
                f"({self.missing} missing), out of order {self.out_of_order}; skipped: {skipped}")


def product_key(obj: dict[str, Any]) -> str | None:
    """The default check: every message is usable, keyed by its `product_id` when it has one."""
    p = obj.get("product_id")
    return p if isinstance(p, str) and p else None


class CoinbaseSource(Source):
    """Subscribes to Coinbase market data for `products` and yields one record per tick/trade/candle."""

    name = "coinbase"

    def __init__(
        self,
        products: Sequence[str],
        *,
        feed: str = "exchange",
        url: str | None = None,
        channels: Sequence[str] | None = None,
        backoff_s: float = 0.1,
        max_backoff_s: float = 10.0,
        open_timeout_s: float = 10.0,
        check: Check | None = None,
    ) -> None:
        super().__init__()
        if feed not in FEEDS:
            raise InvalidArgument(f"feed {feed!r} is not one of {sorted(FEEDS)}")
        if not products or not all(isinstance(p, str) and p for p in products):
            raise InvalidArgument("give at least one product id", hint="e.g. --products BTC-USD,ETH-USD")
        self.feed, self.products = feed, list(products)
        self.url = url or FEEDS[feed][0]
        if urlparse(self.url).scheme not in ("ws", "wss"):
            raise InvalidArgument(f"{self.url!r} is not a WebSocket URL", hint="use ws://host:port or wss://")
        self.channels = list(channels or FEEDS[feed][1])
        self.backoff_s, self.max_backoff_s, self.open_timeout_s = backoff_s, max_backoff_s, open_timeout_s
        self.check = check or product_key
        self.stats = FeedStats()
        self._trade_ids: dict[str, int] = {}
        self._sequences: dict[str, int] = {}
        self._conn_seq: int | None = None

    def subscribe_messages(self) -> list[dict[str, Any]]:
        """The subscribe message(s) sent on every (re)connection."""
        if self.feed == "exchange":
            return [{"type": "subscribe", "product_ids": self.products, "channels": self.channels}]
        return [{"type": "subscribe", "product_ids": self.products, "channel": c} for c in self.channels]

    def read(self) -> Iterator[Item]:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        from websockets.sync.client import connect

        loopback = urlparse(self.url).hostname in ("127.0.0.1", "localhost", "::1")
        delay = self.backoff_s
        while not self.stopped:
            opened = False
            try:
                with connect(self.url, open_timeout=self.open_timeout_s, max_size=2**22,
                             proxy=None if loopback else True) as ws:
                    opened = True
                    self.stats.connects += 1
                    self._conn_seq = None
                    for msg in self.subscribe_messages():
                        ws.send(json.dumps(msg))
                    while not self.stopped:
                        try:
                            frame = ws.recv(timeout=0.2)
                        except TimeoutError:
                            yield None
                            continue
                        delay = self.backoff_s  # a working connection resets the backoff
                        yield from self._frame(frame)
                    return
            except InvalidURI as e:
                raise InvalidArgument(f"bad WebSocket URL {self.url!r}: {e}") from None
            except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake):
                if opened:
                    self.stats.disconnects += 1
                else:
                    self.stats.failed_connects += 1
            yield from self._sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    def _sleep(self, seconds: float) -> Iterator[Item]:
        """Wait `seconds` (stop-aware), yielding idles so the ingestor keeps flushing."""
        left = seconds
        while left > 0 and not self.stopped:
            self._stop.wait(min(left, 0.2))
            left -= 0.2
            yield None

    def _frame(self, frame: str | bytes) -> Iterator[Item]:
        """The records (or dead letters) in one WebSocket frame."""
        self.stats.messages += 1
        raw = frame.encode() if isinstance(frame, str) else bytes(frame)
        try:
            msg = json.loads(raw)
            if not isinstance(msg, dict):
                raise ValueError(f"expected a JSON object, got {type(msg).__name__}")
        except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep
            yield self._reject(raw, f"malformed frame: {e}")
            return
        if self.feed == "exchange":
            yield from self._exchange(msg, raw)
        else:
            yield from self._advanced(msg, raw)

    def _reject(self, raw: bytes, reason: str) -> Rejected:
        self.stats.rejected += 1
        return Rejected(raw, reason)

    def _skip(self, kind: str) -> None:
        self.stats.skipped[kind] = self.stats.skipped.get(kind, 0) + 1

    def _record(self, obj: dict[str, Any], raw: bytes) -> Item:
        try:
            key = self.check(obj)
        except ValueError as e:
            return self._reject(raw, str(e))
        self.stats.records += 1
        return Record(raw, key=key.encode() if key else None)

    def _exchange(self, msg: dict[str, Any], raw: bytes) -> Iterator[Item]:
        typ = msg.get("type")
        if typ == "error":
            yield self._reject(raw, f"coinbase error: {msg.get('message')}: {msg.get('reason', '')}".strip())
            return
        if typ not in _EXCHANGE_KEEP:
            self._skip(str(typ))
            return
        item = self._record(msg, raw)
        if isinstance(item, Record):
            self._check_exchange(msg)
        yield item

    def _check_exchange(self, msg: dict[str, Any]) -> None:
        """Out-of-order `sequence` per product; gaps in trade ids of match messages."""
        product, seq = msg.get("product_id"), msg.get("sequence")
        if isinstance(seq, int) and isinstance(product, str):
            last = self._sequences.get(product)
            if last is not None and seq < last:
                self.stats.out_of_order += 1
            else:
                self._sequences[product] = seq
        trade = msg.get("trade_id")
        if msg.get("type") in ("match", "last_match") and isinstance(trade, int) and isinstance(product, str):
            last = self._trade_ids.get(product)
            if last is not None and trade > last + 1:
                self.stats.gaps += 1
                self.stats.missing += trade - last - 1
            if last is None or trade > last:
                self._trade_ids[product] = trade

    def _advanced(self, msg: dict[str, Any], raw: bytes) -> Iterator[Item]:
        channel = msg.get("channel")
        if not isinstance(channel, str) or not isinstance(msg.get("events"), list):
            yield self._reject(raw, "not an Advanced Trade message: no 'channel' and 'events'")
            return
        seq = msg.get("sequence_num")
        if isinstance(seq, int):
            if self._conn_seq is not None and seq <= self._conn_seq:
                self.stats.out_of_order += 1
            else:
                if self._conn_seq is not None and seq > self._conn_seq + 1:
                    self.stats.gaps += 1
                    self.stats.missing += seq - self._conn_seq - 1
                self._conn_seq = seq
        envelope = {"channel": channel, "timestamp": msg.get("timestamp"), "sequence_num": seq}
        items_key = _ADVANCED_ITEMS.get(channel)
        for event in msg["events"]:
            if not isinstance(event, dict):
                yield self._reject(raw, f"{channel}: an event is not a JSON object")
                continue
            if channel == "heartbeats":
                item = {**envelope, **event}
                yield self._record(item, json.dumps(item).encode())
            elif items_key is None:
                self._skip(channel)
            elif not isinstance(event.get(items_key) or [], list):
                yield self._reject(raw, f"{channel}: {items_key} is not a list")
            else:
                for it in event.get(items_key) or []:
                    item = {**envelope, "event_type": event.get("type"), **it} if isinstance(it, dict) else it
                    yield self._record(item, json.dumps(item).encode()) if isinstance(item, dict) else \
                        self._reject(raw, f"{channel}: an item of {items_key} is not a JSON object")
