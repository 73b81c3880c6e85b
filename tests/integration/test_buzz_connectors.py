"""buzz connectors against real local servers on 127.0.0.1 replaying recorded data: the GitHub
events API (ETag/304, X-Poll-Interval, a 403 rate limit with its reset, Link pagination, a token),
the Twitter v2 filtered stream and the Meetup RSVP stream (newline-delimited JSON over HTTP,
keep-alives, a dropped connection) and Bluesky Jetstream (WebSocket; messages CONSTRUCTED in its
public format from recorded tweet texts, since no Jetstream recording exists). Every record must
arrive exactly once; malformed ones land in the dead-letter topic with the reason."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from riverbed.connectors import Ingestor
from riverbed.connectors.github import GitHubEventsSource, next_link
from riverbed.connectors.meetup import MeetupRsvpSource
from riverbed.connectors.social import JetstreamSource, TwitterStreamSource
from riverbed.dlq import read_dead_letters
from riverbed.log import Log, open_log
from riverbed.testing import read_topic

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def elog(tmp_path: Path) -> Iterator[Log]:
    with open_log(f"embedded://{tmp_path / 'log'}") as lg:
        for t in ("github", "posts", "meetup"):
            lg.create_topic(t)
        yield lg


@contextmanager
def http_server(handle: Callable[[BaseHTTPRequestHandler, int], None]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1; `handle(request, n)` answers the n-th request (from 0)."""
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # a streamed body ends when the server closes it

        def do_GET(self) -> None:
            with lock:
                n = count[0]
                count[0] += 1
            handle(self, n)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a streaming handler still sleeping must not hold up the close
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send(req: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    req.send_response(status)
    for k, v in headers.items():
        req.send_header(k.replace("_", "-"), v)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def run_until(ingestor: Ingestor, source, done: Callable[[], bool], timeout: float = 30.0) -> None:
    t = threading.Thread(target=ingestor.run, args=(source,), daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.05)
    ingestor.stop()
    t.join(10)
    assert not t.is_alive()


# -- GitHub ----------------------------------------------------------------------------------------
def test_github_poller_etag_poll_interval_rate_limit_pages(elog: Log, monkeypatch) -> None:
    recorded = json.loads((DATA / "github/github_events_api_2013-01-10_30events.json").read_text())
    newer = [json.loads(x) for x in (DATA / "github/gharchive_2016-07-07_2000events_slim.jsonl")
             .read_text().splitlines()[:5]][::-1]  # the API lists newest first
    bad = {"id": "999", "type": "PushEvent"}  # no created_at
    seen: list[tuple[float, str, dict]] = []
    reset_at = [0]

    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        seen.append((time.monotonic(), req.path, dict(req.headers)))
        common = {"X_Poll_Interval": "1", "X_RateLimit_Remaining": "50",
                  "X_RateLimit_Reset": str(int(time.time()) + 3600)}
        page2 = "/repos/apache/spark/events?per_page=100&page=2"
        if n == 0:  # first page, with a Link to the second
            send(req, 200, json.dumps(recorded[:15]).encode(), ETag='"e1"',
                 Link=f'<http://{req.headers["Host"]}{page2}>; rel="next"', **common)
        elif n == 1:
            assert req.path == page2
            send(req, 200, json.dumps(recorded[15:]).encode(), **common)
        elif n == 2:  # nothing new since e1
            assert req.headers.get("If-None-Match") == '"e1"'
            send(req, 304, **common)
        elif n == 3:  # out of quota until reset
            reset_at[0] = int(time.time()) + 2
            send(req, 403, b'{"message":"API rate limit exceeded"}', X_RateLimit_Remaining="0",
                 X_RateLimit_Reset=str(reset_at[0]))
        elif n == 4:  # 5 new events + overlap with the previous poll + one malformed
            send(req, 200, json.dumps([*newer, bad, *recorded[:3]]).encode(), ETag='"e2"', **common)
        else:
            send(req, 304, **common)

    monkeypatch.setenv("GITHUB_TOKEN", "test-token-123")
    with http_server(handle) as base:
        src = GitHubEventsSource(repo="apache/spark", base_url=base, min_interval_s=0.1, max_polls=5)
        assert "test-token-123" not in repr(src)
        stats = Ingestor(elog, "github", linger_ms=0).run(src)
    got = read_topic(elog, "github")
    ids = [json.loads(r.value)["id"] for r in got]
    assert ids == [e["id"] for e in recorded[::-1]] + [e["id"] for e in newer[::-1]]  # oldest first, once
    assert [r.key for r in got[:30]] == [e["repo"]["name"].encode() for e in recorded[::-1]]
    assert all(b"test-token-123" not in r.value for r in got)
    assert all(h["Authorization"] == "Bearer test-token-123" for _, _, h in seen)
    dead = read_dead_letters(elog, "github")
    assert [d.reason for d in dead] == ["github: event has no created_at"]
    assert (stats.written, stats.rejected) == (35, 1)
    assert (src.not_modified, src.rate_limited, src.polls) == (2, 1, 5)
    times = [t for t, _, _ in seen]
    assert times[2] - times[1] >= 0.9  # X-Poll-Interval: 1 beats min_interval_s=0.1
    assert time.time() >= reset_at[0] - 1 and times[4] - times[3] >= 0.9  # waited for the reset


def test_next_link() -> None:
    link = ('<https://api.github.com/events?page=2>; rel="next", '
            '<https://api.github.com/events?page=10>; rel="last"')
    assert next_link(link) == "https://api.github.com/events?page=2"
    assert next_link('<https://x/events?page=1>; rel="prev"') is None


# -- Twitter v2 filtered stream ----------------------------------------------------------------------
def stream_envelopes() -> list[bytes]:
    """A filtered-stream message per recorded v2 tweet: {"data", "includes": {"users"}, "matching_rules"}."""
    page = json.loads((DATA / "social/twitter_v2_search_brexit_page.jsonl").read_text())
    users = {u["id"]: u for u in page["includes"]["users"]}
    return [
        json.dumps({"data": t, "includes": {"users": [users[t["author_id"]]]},
                    "matching_rules": [{"id": "1", "tag": "brexit"}]}).encode()
        for t in page["data"]
    ]


def test_twitter_stream_keepalives_disconnect_and_malformed(elog: Log) -> None:
    msgs = stream_envelopes()
    cut = 40

    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.end_headers()
        if n == 0:  # 40 tweets, keep-alives, a truncated message, then the connection drops
            for i, m in enumerate(msgs[:cut]):
                req.wfile.write(m + b"\r\n" + (b"\r\n" if i % 10 == 0 else b""))
            req.wfile.write(msgs[cut][:50] + b"\r\n")
            return
        for m in msgs[cut - 2:]:  # the rest (two repeated), then keep-alives until the client goes
            req.wfile.write(m + b"\r\n")
        req.wfile.flush()
        for _ in range(100):
            try:
                req.wfile.write(b"\r\n")
                req.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    with http_server(handle) as base:
        src = TwitterStreamSource(f"{base}/2/tweets/search/stream", token="tok", backoff_s=0.05)
        ing = Ingestor(elog, "posts", linger_ms=50)
        run_until(ing, src, lambda: ing.stats.written >= len(msgs) and ing.stats.rejected >= 1)
    got = [json.loads(r.value)["data"]["id"] for r in read_topic(elog, "posts")]
    assert sorted(got) == sorted(json.loads(m)["data"]["id"] for m in msgs) and len(got) == len(set(got))
    assert src.connects == 2 and src.duplicates == 2 and src.keepalives >= 4
    [dead] = read_dead_letters(elog, "posts")
    assert dead.reason.startswith("twitter: invalid JSON")


# -- Meetup RSVP stream --------------------------------------------------------------------------------
def test_meetup_stream_resumes_with_since_mtime(elog: Log) -> None:
    rsvps = sorted((DATA / "meetup/meetup_rsvp_stream_sample_2020-10.jsonl").read_bytes().splitlines(),
                   key=lambda b: json.loads(b)["mtime"])
    paths: list[str] = []

    def handle(req: BaseHTTPRequestHandler, n: int) -> None:
        paths.append(req.path)
        req.send_response(200)
        req.end_headers()
        if n == 0:
            req.wfile.write(b"\n".join(rsvps[:3]) + b'\n{"rsvp_id": 1, "event": {}}\n')
            return  # dropped
        since = int(urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query)["since_mtime"][0])
        req.wfile.write(b"\n".join(r for r in rsvps if json.loads(r)["mtime"] >= since) + b"\n")
        time.sleep(3)

    with http_server(handle) as base:
        src = MeetupRsvpSource(f"{base}/2/rsvps", backoff_s=0.05)
        ing = Ingestor(elog, "meetup", linger_ms=50)
        run_until(ing, src, lambda: ing.stats.written >= 5 and ing.stats.rejected >= 1)
    got = [json.loads(r.value)["rsvp_id"] for r in read_topic(elog, "meetup")]
    assert got == [json.loads(r)["rsvp_id"] for r in rsvps]
    last = json.loads(rsvps[2])["mtime"]
    assert len(paths) == 2 and f"since_mtime={last}" in paths[1]
    assert src.duplicates == sum(json.loads(r)["mtime"] >= last for r in rsvps[:3]) >= 1
    [dead] = read_dead_letters(elog, "meetup")
    assert dead.reason == "meetup: no integer mtime (epoch ms)"


# -- Bluesky Jetstream (constructed messages) ----------------------------------------------------------
def jetstream_events() -> list[dict]:
    """CONSTRUCTED, not recorded: Jetstream's public event format, with texts of recorded tweets."""
    texts = [json.loads(x)["text"] for x in (DATA / "social/twitter_v2_flat_100tweets.jsonl")
             .read_text().splitlines()[:20]]
    t0 = 1_725_911_162_000_000
    out: list[dict] = []
    for i, text in enumerate(texts):
        out.append({"did": f"did:plc:test{i % 7}", "time_us": t0 + i * 1000, "kind": "commit", "commit": {
            "rev": f"rev{i}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": f"3l{i:04d}",
            "cid": f"bafy{i}", "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02Z",
                                         "langs": ["en"], "text": text, "facets": [{"features": [
                                             {"$type": "app.bsky.richtext.facet#tag", "tag": "Spark"}]}]}}})
        if i == 5:
            out.append({"did": "did:plc:x", "time_us": t0 + i * 1000 + 1, "kind": "identity",
                        "identity": {"did": "did:plc:x", "handle": "x.bsky.social", "seq": 1}})
    return out


def test_jetstream_websocket_reconnects_with_cursor(elog: Log) -> None:
    from websockets.sync.server import serve

    events = jetstream_events()
    requests: list[str] = []
    finished = threading.Event()

    def handler(ws) -> None:
        requests.append(ws.request.path)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        assert q["wantedCollections"] == ["app.bsky.feed.post"]
        if "cursor" not in q:
            for e in events[:12]:
                ws.send(json.dumps(e))
            ws.send("{this is not json")
            return  # closes: the client must reconnect with a cursor
        for e in events:
            if e["time_us"] >= int(q["cursor"][0]):
                ws.send(json.dumps(e))
        finished.wait(10)

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        src = JetstreamSource(f"ws://127.0.0.1:{port}/subscribe", backoff_s=0.05)
        ing = Ingestor(elog, "posts", linger_ms=50)
        run_until(ing, src, lambda: ing.stats.written >= 20 and ing.stats.rejected >= 1)
        finished.set()
        server.shutdown()
    got = [json.loads(r.value) for r in read_topic(elog, "posts")]
    assert [e["commit"]["rkey"] for e in got] == [f"3l{i:04d}" for i in range(20)]
    assert src.connects == 2 and "cursor=" in requests[1] and src.duplicates > 0 and src.skipped >= 1
    [dead] = read_dead_letters(elog, "posts")
    assert dead.reason.startswith("jetstream: invalid JSON")
