"""The failing examples the fuzzing found, kept as plain regression tests (one per fix)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from riverbed.apps.bitcoin.normalize import check_message, normalize
from riverbed.apps.bitcoin.parse import parse_batch as btc_parse_batch
from riverbed.apps.bitcoin.parse import parse_value
from riverbed.apps.buzz.normalise import normalise
from riverbed.apps.buzz.parse import parse_batch as buzz_parse_batch
from riverbed.cli.produce import BadLine, key_of
from riverbed.connectors._http import json_object
from riverbed.connectors.base import Rejected, Source
from riverbed.connectors.coinbase import CoinbaseSource
from riverbed.connectors.github import GitHubEventsSource
from riverbed.connectors.ingest import Ingestor
from riverbed.connectors.meetup import MeetupRsvpSource
from riverbed.connectors.replay import json_time
from riverbed.dlq import read_dead_letters
from riverbed.log import Record, open_log
from riverbed.testing import read_topic

#: found by test_coinbase_frames: json.loads raises RecursionError (not ValueError) on deep nesting
DEEP = [b"[" * 100_000, b'{"a":' * 100_000]


@pytest.mark.parametrize("raw", DEEP, ids=["array", "object"])
def test_deeply_nested_json_is_a_reasoned_reject_everywhere(raw: bytes) -> None:
    [item] = CoinbaseSource(["BTC-USD"], url="ws://127.0.0.1:9", check=check_message)._frame(raw)
    assert isinstance(item, Rejected) and "malformed frame" in item.reason
    assert isinstance(json_object(raw), Rejected)  # Twitter, Jetstream, Meetup lines
    [item] = GitHubEventsSource(repo="o/r")._events(raw)
    assert isinstance(item, Rejected) and "not JSON" in item.reason
    row, err = parse_value(raw)  # the bitcoin pipeline's parse
    assert row is None and err and err.startswith("not JSON")
    with pytest.raises(BadLine, match="nested too deeply"):
        key_of(raw, "k")
    assert json_time(["time"])(raw) is None


#: found by test_bpi_bodies: a BPI body whose updatedISO is a huge epoch number passed normalize, then
#: the poller's iso() raised OverflowError and stopped the BpiSource
@pytest.mark.parametrize("value", [1e300, "99999999999999999999", 10**40, "9999-12-31T23:59:59-23:59",
                                   "0001-01-01T00:00:00+23:59"])
def test_times_outside_years_1_to_9999_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="out of range"):
        normalize({"type": "index", "product_id": "BTC-USD", "price": 1, "time": value})


def test_bpi_poll_with_an_out_of_range_time_is_one_dead_letter() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from riverbed.connectors.bpi import BpiSource

    body = b'{"time": {"updatedISO": 1e300}, "bpi": {"USD": {"code": "USD", "rate_float": 5.0}}}'

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
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        [item] = BpiSource(url, once=True, check=check_message).poll()
    finally:
        server.shutdown()
        server.server_close()
    assert isinstance(item, Rejected) and "out of range" in item.reason


class _Items(Source):
    name = "fuzz"

    def __init__(self, items: list) -> None:
        super().__init__()
        self.items = items

    def read(self):
        yield from self.items


#: found by test_meetup_lines: the RSVP line {"rsvp_id": 1, "mtime": 9223372036854775808, ...} became a
#: record whose timestamp does not fit SQLite's INTEGER: the append raised OverflowError and the
#: Ingestor stopped (Jetstream time_us, Twitter/GitHub created_at of digits can do the same)
def test_a_record_with_an_out_of_range_timestamp_is_a_dead_letter(tmp_path: Path) -> None:
    line = (b'{"rsvp_id": 1, "mtime": 9223372036854775808, "member": {"member_name": "m"}, '
            b'"event": {"event_id": "e1", "event_name": "e"}}')
    items = [MeetupRsvpSource("http://127.0.0.1:9").decode_line(line), Record(b"ok", timestamp=5),
             Record(b"neg", timestamp=-1)]
    with open_log(f"embedded://{tmp_path}") as log:
        log.create_topic("m")
        stats = Ingestor(log, "m").run(_Items(items))
        assert (stats.written, stats.rejected) == (1, 2)
        assert [r.value for r in read_topic(log, "m")] == [b"ok"]
        reasons = [d.reason for d in read_dead_letters(log, "m")]
        assert all("out of range" in r for r in reasons) and len(reasons) == 2


#: found by test_github_bodies: an event whose "repo" is an object without "name" raised KeyError
def test_github_event_with_a_repo_without_name_is_kept_unkeyed() -> None:
    body = b'[{"id": "1", "type": "PushEvent", "created_at": "2016-07-07T00:00:00Z", "repo": {}}]'
    [rec] = GitHubEventsSource(repo="o/r")._events(body)
    assert isinstance(rec, Record) and rec.key is None


#: found by test_coinbase_frames (long profile): an Advanced Trade event whose item list is not a list
@pytest.mark.parametrize("items", ["1", '"abc"', '{"a": 1}', "true"])
def test_advanced_trade_items_that_are_not_a_list_are_rejected(items: str) -> None:
    frame = b'{"channel":"candles","events":[{"candles":%s}]}' % items.encode()
    src = CoinbaseSource(["BTC-USD"], feed="advanced", url="ws://127.0.0.1:9", check=check_message)
    [item] = src._frame(frame)
    assert isinstance(item, Rejected) and "candles is not a list" in item.reason


def _one_row_batch(value: bytes) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([value], pa.binary())], names=["value"])


#: found by test_buzz_parse_batch: a tweet whose author_id is false normalised to author=False, and the
#: Arrow parse (Spark's mapInArrow) raised ArrowTypeError, failing the buzz pipeline's micro-batch
@pytest.mark.parametrize("value", [
    b'{"data": {"id": "9", "text": "hi", "created_at": "2019-01-01T00:00:00Z", "author_id": false}}',
    b'{"id": "9", "text": "hi", "created_at": "2019-01-01T00:00:00Z", "lang": {"x": 1}}',
    b'{"rsvp_id": 1, "mtime": 9223372036854775808, "event": {"event_name": "e"}}',
])
def test_buzz_rows_with_mistyped_fields_are_error_rows(value: bytes) -> None:
    with pytest.raises(ValueError, match=r"is not text|years 1-9999"):
        normalise(value)
    [row] = buzz_parse_batch(_one_row_batch(value)).to_pylist()
    assert row["error"] and row["source"] is None and row["raw"] == value


#: found by test_bitcoin_parse_batch (long profile): "sequence": 9223372036854775808 raised
#: OverflowError building the int64 seq column, failing the bitcoin pipeline's micro-batch
def test_bitcoin_sequence_too_big_for_64_bits_is_dropped() -> None:
    value = (b'{"type": "match", "product_id": "BTC-USD", "price": "5.8", "size": "1", '
             b'"time": "2011-09-13T13:53:36Z", "trade_id": 1, "sequence": 9223372036854775808}')
    [row] = btc_parse_batch(_one_row_batch(value)).to_pylist()
    assert row["error"] is None and row["seq"] == 1  # falls back to the trade id
