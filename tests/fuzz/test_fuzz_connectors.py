"""Fuzz the connectors' decode paths (WebSocket frames, stream lines, HTTP bodies) and the Ingestor:
a bad frame, line or body is a dead letter with a reason; nothing stops the Ingestor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fuzzcount import cases
from hypothesis import given
from hypothesis import strategies as st
from strategies import ANY_JSON, BAD_SCALARS, dumps, mangled
from test_fuzz_apps import BITCOIN_SHAPES, BUZZ_SHAPES

from riverbed.apps.bitcoin.normalize import check_message
from riverbed.connectors.base import Rejected, Source
from riverbed.connectors.bpi import BpiSource
from riverbed.connectors.coinbase import CoinbaseSource
from riverbed.connectors.github import GitHubEventsSource
from riverbed.connectors.ingest import Ingestor
from riverbed.connectors.meetup import MeetupRsvpSource
from riverbed.connectors.social import JetstreamSource, TwitterStreamSource
from riverbed.dlq import as_dead_letter, dlq_topic, read_dead_letters
from riverbed.log import Log, Record, open_log


class Deep(bytes):
    """Deeply nested JSON (json.loads raises RecursionError), with a short repr for failure reports."""

    def __repr__(self) -> str:
        return f"{self[:5]!r} * {len(self) // 5}"


#: bytes that are not one JSON object: garbage, truncated JSON, deep nesting
NOT_JSON = st.one_of(st.binary(max_size=60), ANY_JSON.map(dumps).map(lambda b: b[: len(b) // 2]),
                     st.sampled_from([b"", Deep(b"[[[[[" * 40_000), Deep(b'{"a":' * 40_000), b"\xff\xfe{}",
                                      b"1e999999", b"null"]))


class Items(Source):
    """A source of the given items (what a connector's decode produced), for the Ingestor."""

    name = "fuzz"

    def __init__(self, items: Iterable[object]) -> None:
        super().__init__()
        self.items = list(items)

    def read(self) -> Iterator[object]:  # type: ignore[override]
        yield from self.items


@pytest.fixture(scope="module")
def elog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    with open_log(f"embedded://{tmp_path_factory.mktemp('fuzzlog')}") as lg:
        yield lg


def _check(items: list[object]) -> None:
    """Each item is a record, a reasoned reject, or nothing (skipped)."""
    for it in items:
        assert it is None or isinstance(it, Record | Rejected), it
        if isinstance(it, Rejected):
            assert it.reason.strip() and isinstance(it.value, bytes)


def _dlq_end(log: Log, topic: str) -> int:
    return log.offsets(dlq_topic(topic), 0)[1] if log.exists(dlq_topic(topic)) else 0


def _ingest(log: Log, topic: str, items: list[object]) -> None:
    """The items through a real Ingestor: it never raises; good ones written, rejects dead-lettered."""
    log.ensure_topic(topic)
    before = _dlq_end(log, topic)
    stats = Ingestor(log, topic, batch_size=50, linger_ms=0).run(Items(items))
    real = [i for i in items if i is not None]
    # the connector's rejects, plus records the Ingestor refuses (an event time out of range)
    assert stats.rejected >= sum(isinstance(i, Rejected) for i in real)
    assert stats.written + stats.rejected == len(real)
    dlq = dlq_topic(topic)  # made by the first reject: a fresh log's first batch may have none
    dead = [as_dead_letter(r) for r in log.read(dlq, 0, before, max_records=100)] if log.exists(dlq) else []
    assert len(dead) == stats.rejected
    assert all(d.reason and d.source == "connector:fuzz" for d in dead)


FRAMES = st.one_of(NOT_JSON, ANY_JSON.map(dumps), st.one_of(*(mangled(s) for s in BITCOIN_SHAPES)).map(dumps),
                   st.one_of(*(mangled(s) for s in BITCOIN_SHAPES)).map(
                       lambda m: dumps({"channel": m.get("channel", "market_trades"), "sequence_num": 1,
                                        "timestamp": "2024-01-01T00:00:00Z", "events": [
                                            {"type": "update", "trades": [m], "tickers": [m],
                                             "candles": [m]}]})),
                   st.builds(lambda ch, ev: dumps({"channel": ch, "events": ev}),
                             st.sampled_from(["market_trades", "ticker", "candles", "heartbeats", "level2"]),
                             st.lists(st.one_of(ANY_JSON, st.dictionaries(
                                 st.sampled_from(["trades", "tickers", "candles", "type"]), ANY_JSON)),
                                 max_size=3)))


@given(frames=st.lists(FRAMES, min_size=1, max_size=5), feed=st.sampled_from(["exchange", "advanced"]))
def test_coinbase_frames(elog: Log, frames: list[bytes], feed: str) -> None:
    cases("coinbase frames", len(frames))
    src = CoinbaseSource(["BTC-USD"], feed=feed, url="ws://127.0.0.1:9", check=check_message)
    items = [it for f in frames for it in src._frame(f)]
    _check(items)
    _ingest(elog, f"coinbase-{feed}", items)


@given(lines=st.lists(st.one_of(NOT_JSON, ANY_JSON.map(dumps), st.sampled_from(BUZZ_SHAPES[3:4]).flatmap(
    lambda s: st.one_of(mangled(s), mangled(s["commit"]).map(lambda c: {**s, "commit": c}))).map(dumps)),
    min_size=1, max_size=5))
def test_jetstream_frames(elog: Log, lines: list[bytes]) -> None:
    cases("jetstream frames", len(lines))
    src = JetstreamSource("ws://127.0.0.1:9")
    items = [src._item(x) for x in lines]
    _check(items)
    _ingest(elog, "jetstream", items)


@given(lines=st.lists(st.one_of(NOT_JSON, ANY_JSON.map(dumps),
                                st.sampled_from(BUZZ_SHAPES[1:3]).flatmap(mangled).map(dumps),
                                mangled(BUZZ_SHAPES[1]["data"]).map(lambda d: dumps({"data": d}))),
                      min_size=1, max_size=5))
def test_twitter_lines(elog: Log, lines: list[bytes]) -> None:
    cases("twitter stream lines", len(lines))
    src = TwitterStreamSource("http://127.0.0.1:9", token="x")
    items = [src.decode_line(x) for x in lines]
    _check(items)
    _ingest(elog, "twitter", items)


_RSVP = {**BUZZ_SHAPES[4], "event": {"event_id": "e1", "event_name": "e"}}


@given(lines=st.lists(st.one_of(NOT_JSON, ANY_JSON.map(dumps), mangled(_RSVP).map(dumps)),
                      min_size=1, max_size=5))
def test_meetup_lines(elog: Log, lines: list[bytes]) -> None:
    cases("meetup stream lines", len(lines))
    src = MeetupRsvpSource("http://127.0.0.1:9")
    items = [src.decode_line(x) for x in lines]
    _check(items)
    _ingest(elog, "meetup", items)


@given(body=st.one_of(NOT_JSON, ANY_JSON.map(dumps), st.lists(st.one_of(
    mangled(BUZZ_SHAPES[0]), ANY_JSON), max_size=5).map(dumps)))
def test_github_bodies(elog: Log, body: bytes) -> None:
    cases("github events bodies")
    src = GitHubEventsSource(repo="o/r", token="x")
    items = src._events(body)
    _check(items)
    _ingest(elog, "github", items)


class _Body(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def bpi_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Body)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bpi"
    server.shutdown()
    server.server_close()


_BPI_NOW = {"time": {"updatedISO": "2024-01-01T00:00:00+00:00"},
            "bpi": {"USD": {"code": "USD", "rate": "42,000.5", "rate_float": 42000.5}}}


@given(body=st.one_of(NOT_JSON, ANY_JSON.map(dumps), mangled(_BPI_NOW).map(dumps),
                      st.builds(lambda t, r: dumps({"time": {"updatedISO": t}, "bpi": {"USD": {"rate": r}}}),
                                BAD_SCALARS, BAD_SCALARS),
                      st.dictionaries(st.sampled_from(["2014-01-01", "2014-13-01", "x"]), BAD_SCALARS)
                      .map(lambda d: dumps({"bpi": d}))))
def test_bpi_bodies(elog: Log, bpi_url: str, body: bytes) -> None:
    """A real HTTP poll of a local server answering `body`."""
    cases("bpi bodies (HTTP polls)")
    _Body.body = body
    items = BpiSource(bpi_url, once=True, check=check_message).poll()
    _check(items)
    _ingest(elog, "bpi", items)
    for it in items:
        if isinstance(it, Record):
            assert json.loads(it.value)["type"] == "index"


def test_a_decode_hook_that_raises_never_stops_the_ingestor(elog: Log, tmp_path: Path) -> None:
    """Text lines with a decode hook failing on some: all lines accounted for, reasons in the DLQ."""
    lines = [b"ok %d" % i if i % 3 else b"\xff bad %d" % i for i in range(30)]

    def hook(rec: Record) -> Record:
        rec.value.decode("utf-8")
        return rec

    _ingest(elog, "hooked", [Rejected(b"x", "upstream reason"), *lines])
    stats = Ingestor(elog, "hooked", decode=hook, linger_ms=0).run(Items(lines))
    assert (stats.written, stats.rejected) == (20, 10)
    assert "hook: UnicodeDecodeError" in read_dead_letters(elog, "hooked")[-1].reason
