"""The bitcoin connectors against real servers on 127.0.0.1: a WebSocket server speaking the Coinbase
Exchange feed (replaying the recorded capture) and the Advanced Trade feed (messages in its
documented format, built from the capture's real trades), and an HTTP server serving the recorded
CoinDesk BPI response. Scenarios: dropped connections, a server that is not up yet, malformed
frames, gapped and out-of-order sequence numbers."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from riverbed.apps.bitcoin.normalize import check_message
from riverbed.apps.bitcoin.parse import parse_value
from riverbed.connectors.bpi import BpiSource
from riverbed.connectors.coinbase import CoinbaseSource
from riverbed.connectors.ingest import Ingestor
from riverbed.dlq import read_dead_letters
from riverbed.log import open_log
from riverbed.testing import read_topic

DATA = Path(__file__).parent.parent / "data" / "bitcoin"
CAPTURE = DATA / "coinbasepro_ws_capture_2021-04-17_excerpt.log"
BPI = DATA / "coindesk_bpi_historical_close_AUD_partial.json"
PRODUCTS = ["SKL-USD", "SKL-BTC", "BAND-GBP", "NMR-EUR", "BAND-BTC", "YFI-BTC", "DASH-BTC", "NU-GBP",
            "CRV-EUR", "SKL-GBP"]


def capture() -> list[str]:
    """The server side of the recorded session: `<recv_epoch>: <json>` lines, in order."""
    out = []
    for line in CAPTURE.read_text().splitlines():
        if line.strip() and not line.startswith("wss://"):  # wss:// lines are the client's side
            out.append(line.split(": ", 1)[1])
    return out


class FeedServer:
    """A WebSocket server on 127.0.0.1 sending `frames` once over all connections (a shared cursor):
    after each subscription it goes on where the last connection stopped; `drop_at` positions close
    the TCP connection abruptly, without a close frame. A callable frame gets the connection's
    message counter and returns (text, next counter)."""

    def __init__(self, frames: list[str | bytes | Callable[[int], tuple[str, int]]], *,
                 drop_at: set[int] = frozenset(),
                 subscribe_messages: int = 1, port: int = 0) -> None:
        self.frames, self.drop_at, self.n_sub = frames, set(drop_at), subscribe_messages
        self.cursor, self.subscribes = 0, []
        self.server = serve(self.handle, "127.0.0.1", port, compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, ws: ServerConnection) -> None:
        for _ in range(self.n_sub):
            self.subscribes.append(json.loads(ws.recv(timeout=5)))
        conn_seq = 0
        while self.cursor < len(self.frames):
            if self.cursor in self.drop_at:
                self.drop_at.discard(self.cursor)
                ws.socket.shutdown(socket.SHUT_RDWR)  # the network goes away mid-stream
                return
            frame = self.frames[self.cursor]
            if callable(frame):
                frame, conn_seq = frame(conn_seq)
            ws.send(frame)
            self.cursor += 1
        with contextlib.suppress(ConnectionClosed):
            ws.recv()  # stay connected until the client leaves

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def log(tmp_path: Path) -> Iterator:
    with open_log(f"embedded://{tmp_path / 'log'}") as lg:
        yield lg


def run_until(log, src, topic: str, n: int) -> None:
    """Ingest until `n` items (records + rejects) came through, at most 30 s."""
    log.ensure_topic(topic)
    stats = Ingestor(log, topic, linger_ms=50).run(src, max_records=n, duration=30)
    assert stats.records_in == n, f"only {stats.records_in} of {n} items arrived: {src.stats.line()}"


def test_exchange_feed_replay_with_drop_bad_frames_and_sequence_checks(log) -> None:
    frames: list = capture()
    msgs = [json.loads(f) for f in frames]
    matches = [i for i, m in enumerate(msgs) if m["type"] == "match" and m["product_id"] == "SKL-USD"]
    tickers = [i for i, m in enumerate(msgs) if m["type"] == "ticker" and m["product_id"] == "SKL-USD"]
    assert len(matches) >= 3 and len(tickers) >= 3
    lost = frames[matches[1]]  # a lost trade: the next match jumps one trade id
    frames.insert(tickers[2] + 1, frames[tickers[0]])  # a stale ticker arrives late: out of order
    frames = [f for f in frames if f is not lost]
    bad = ["{not json", b"\xff\xfe\x00binary", json.dumps(
        {"type": "ticker", "product_id": "BTC-USD", "price": "abc", "time": "2021-04-17T16:43:30Z"})]
    frames[200:200] = bad
    kept = [f for f in frames if f not in bad and json.loads(f)["type"] in
            ("ticker", "match", "last_match", "heartbeat")]
    server = FeedServer(frames, drop_at={150, 320})
    try:
        src = CoinbaseSource(PRODUCTS, url=f"ws://127.0.0.1:{server.port}", backoff_s=0.05,
                             check=check_message)
        run_until(log, src, "prices", len(kept) + len(bad))
    finally:
        server.close()
    channels = ["ticker", "matches", "heartbeat"]
    expected_sub = {"type": "subscribe", "product_ids": PRODUCTS, "channels": channels}
    assert server.subscribes == [expected_sub] * 3, "subscribed again after each reconnect"
    s = src.stats
    assert (s.connects, s.disconnects) == (3, 2)
    assert (s.gaps, s.missing, s.out_of_order, s.rejected) == (1, 1, 1, 3)
    assert s.skipped["l2update"] == 300 and s.skipped["snapshot"] == 10 and s.skipped["subscriptions"] == 3
    got = read_topic(log, "prices")
    assert [r.value.decode() for r in got] == kept  # every tick once, in order, across the drops
    assert {r.key.decode() for r in got} <= set(PRODUCTS)
    assert all(parse_value(r.value)[1] is None for r in got)  # the pipeline's parse takes them all
    reasons = [d.reason for d in read_dead_letters(log, "prices")]
    assert len(reasons) == 3 and reasons[0].startswith("malformed frame: ")
    assert reasons[2] == "ticker: price 'abc' is not a number"


def advanced_frames() -> list:
    """Advanced Trade messages in the documented envelope, from the capture's real matches and
    tickers; sequence_num is the server's per-connection counter (filled in at send time)."""
    msgs = [json.loads(f) for f in capture()]
    trades = [m for m in msgs if m["type"] == "match"][:40]
    tickers = [m for m in msgs if m["type"] == "ticker"][:10]

    def env(channel: str, events: list, ts: str, skip: int = 0, stale: bool = False) -> Callable:
        def make(seq: int) -> tuple[str, int]:
            sent = seq - 5 if stale else seq + skip  # skip: messages lost before this one
            return json.dumps({"channel": channel, "client_id": "", "timestamp": ts, "sequence_num": sent,
                               "events": events}), seq if stale else sent + 1

        return make

    out: list = [env("subscriptions", [{"subscriptions": {"market_trades": PRODUCTS}}], trades[0]["time"])]
    for k in range(0, 40, 4):  # market_trades updates: several trades per message
        batch = [{"trade_id": str(m["trade_id"]), "product_id": m["product_id"], "price": m["price"],
                  "size": m["size"], "side": m["side"].upper(), "time": m["time"]} for m in trades[k:k + 4]]
        out.append(env("market_trades", [{"type": "update", "trades": batch}], batch[-1]["time"]))
    for m in tickers:
        t = {"type": "ticker", "product_id": m["product_id"], "price": m["price"],
             "volume_24_h": m["volume_24h"], "low_24_h": m["low_24h"], "high_24_h": m["high_24h"],
             "best_bid": m["best_bid"], "best_ask": m["best_ask"]}
        out.append(env("ticker", [{"type": "update", "tickers": [t]}], m["time"]))
    out.append(env("candles", [{"type": "snapshot", "candles": [
        {"start": "1618677600", "high": "0.7950", "low": "0.7800", "open": "0.7810", "close": "0.7902",
         "volume": "120000.5", "product_id": "SKL-USD"}]}], tickers[-1]["time"]))
    beat = {"current_time": "2021-04-17 16:44:07.1 +0000 UTC", "heartbeat_counter": 7}
    out.append(env("heartbeats", [beat], "2021-04-17T16:44:07.1Z"))
    out.insert(6, env("heartbeats", [{"heartbeat_counter": 3}], "2021-04-17T16:44:00Z", skip=2))  # 2 lost
    out.insert(9, env("heartbeats", [{"heartbeat_counter": 4}], "2021-04-17T16:44:01Z", stale=True))
    out.insert(12, "[1, 2")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_advanced_trade_feed_waits_for_server_and_splits_events(log) -> None:
    frames = advanced_frames()
    port = free_port()
    src = CoinbaseSource(["SKL-USD", "BAND-GBP"], feed="advanced", url=f"ws://127.0.0.1:{port}",
                         channels=["market_trades", "ticker", "candles", "heartbeats"], backoff_s=0.05,
                         check=check_message)
    started: list[FeedServer] = []
    timer = threading.Timer(0.6, lambda: started.append(FeedServer(frames, subscribe_messages=4, port=port)))
    timer.start()  # nothing listens for the first 0.6 s: the source retries with backoff
    try:
        run_until(log, src, "adv", 40 + 10 + 1 + 3 + 1)  # trades, tickers, candle, heartbeats, bad frame
    finally:
        timer.join()
        started[0].close()
    assert src.stats.failed_connects >= 2 and src.stats.connects == 1
    assert started[0].subscribes[0] == {"type": "subscribe", "product_ids": ["SKL-USD", "BAND-GBP"],
                                        "channel": "market_trades"}
    assert [m["channel"] for m in started[0].subscribes] == src.channels
    assert (src.stats.gaps, src.stats.missing, src.stats.out_of_order) == (1, 2, 1)
    rows = [parse_value(r.value) for r in read_topic(log, "adv")]
    assert all(err is None for _, err in rows)
    kinds = [row[7] for row, _ in rows]
    assert (kinds.count("trade"), kinds.count("ticker"), kinds.count("candle"), kinds.count("heartbeat")) == (
        40, 10, 1, 3)
    [dead] = read_dead_letters(log, "adv")
    assert dead.reason.startswith("malformed frame: ")


class BpiHandler(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []
    served = 0

    def do_GET(self) -> None:
        cls = type(self)
        body = cls.bodies[min(cls.served, len(cls.bodies) - 1)]
        cls.served += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_bpi_poller_reads_recorded_response_once_and_dead_letters_bad_bodies(log) -> None:
    current = {"time": {"updated": "Jan 8, 2021 00:04:00 UTC", "updatedISO": "2021-01-08T00:04:00+00:00"},
               "bpi": {"USD": {"code": "USD", "rate": "39,190.1234", "rate_float": 39190.1234},
                       "EUR": {"code": "EUR", "rate": "32,004.5", "rate_float": 32004.5}}}
    recorded = BPI.read_bytes()
    BpiHandler.bodies = [recorded, recorded, b"<html>rate limited</html>", json.dumps(current).encode()]
    BpiHandler.served = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BpiHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        src = BpiSource(f"http://127.0.0.1:{server.server_address[1]}/v1/bpi/historical/close.json",
                        interval_s=0.05, currency="AUD", check=check_message)
        run_until(log, src, "bpi", 14 + 1 + 2)
    finally:
        server.shutdown()
    assert src.stats.polls >= 4
    got = [json.loads(r.value) for r in read_topic(log, "bpi")]
    assert len(got) == 16, "the second identical response added nothing"
    assert got[0] == {"type": "index", "time": "2010-07-18T00:00:00.000Z", "price": 0.0984,
                      "product_id": "BTC-AUD", "source": "coindesk-bpi"}
    assert [g["product_id"] for g in got[-2:]] == ["BTC-USD", "BTC-EUR"] and got[-2]["price"] == 39190.1234
    [dead] = read_dead_letters(log, "bpi")
    assert "not JSON" in dead.reason or "Expecting value" in dead.reason
