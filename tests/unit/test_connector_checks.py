"""Price connectors are generic: the app's `check` decides what is usable, the connector only frames.

Without a check every kept message becomes a record keyed by its product; with the bitcoin app's
`check_message` the same input gives the records and dead letters `riverbed ingest coinbase|bpi` keep.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from riverbed.apps.bitcoin.normalize import check_message
from riverbed.connectors.base import Rejected
from riverbed.connectors.bpi import BpiSource
from riverbed.connectors.coinbase import CoinbaseSource
from riverbed.log import Record

BAD_PRICE = {"type": "ticker", "product_id": "BTC-USD", "price": "-1", "time": "2024-01-01T00:00:00Z"}
GOOD = {"type": "ticker", "product_id": "ETH-USD", "price": "3000.5", "time": "2024-01-01T00:00:01Z"}


def frame_items(src: CoinbaseSource, *messages: dict) -> list:
    return [item for m in messages for item in src._frame(json.dumps(m).encode())]


def test_coinbase_without_a_check_keeps_every_message_keyed_by_product() -> None:
    src = CoinbaseSource(["BTC-USD", "ETH-USD"], url="ws://127.0.0.1:9")
    items = frame_items(src, BAD_PRICE, GOOD, {"type": "heartbeat", "sequence": 1})
    assert [type(i) for i in items] == [Record, Record, Record]
    assert [i.key for i in items] == [b"BTC-USD", b"ETH-USD", None]
    assert (src.stats.records, src.stats.rejected) == (3, 0)


def test_coinbase_with_the_bitcoin_check_rejects_what_the_app_cannot_use() -> None:
    src = CoinbaseSource(["BTC-USD", "ETH-USD"], url="ws://127.0.0.1:9", check=check_message)
    bad, good = frame_items(src, BAD_PRICE, GOOD)
    assert isinstance(bad, Rejected) and bad.reason == "ticker: price '-1' is not a positive number"
    assert isinstance(good, Record) and good.key == b"ETH-USD" and json.loads(good.value) == GOOD
    assert (src.stats.records, src.stats.rejected) == (1, 1)


@contextmanager
def serving(body: bytes) -> Iterator[str]:
    """A local HTTP server answering every GET with `body`; yields its URL."""

    class One(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), One)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_bpi_check_decides_and_an_unreadable_time_is_a_dead_letter_either_way() -> None:
    zero = json.dumps({"bpi": {"2024-01-01": 0, "2024-01-02": 42000.5}}).encode()
    with serving(zero) as url:
        kept = BpiSource(url, once=True).poll()
        refused = BpiSource(url, once=True, check=check_message).poll()
    assert [json.loads(r.value)["price"] for r in kept] == [0, 42000.5]  # no check: framed only
    assert [r.key for r in kept] == [b"BTC-USD", b"BTC-USD"]
    assert [r.timestamp for r in kept] == [1704067200000, 1704153600000]
    [dead] = refused
    assert isinstance(dead, Rejected) and dead.reason == f"{url}: index: price 0 is not a positive number"
    no_time = json.dumps({"bpi": {"USD": {"code": "USD", "rate_float": 5.0}}}).encode()
    with serving(no_time) as url:
        for src in (BpiSource(url, once=True), BpiSource(url, once=True, check=check_message)):
            [dead] = src.poll()
            assert isinstance(dead, Rejected) and "time is missing" in dead.reason
