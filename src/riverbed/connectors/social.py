"""Social-post streams into a topic: Twitter API v2 filtered stream and Bluesky Jetstream.

    >>> Ingestor(log, "posts").run(TwitterStreamSource())                       # doctest: +SKIP
    >>> Ingestor(log, "posts").run(JetstreamSource())                           # doctest: +SKIP

- Twitter v2 filtered stream: one long-lived HTTP response of newline-delimited JSON messages
  `{"data": {tweet}, "includes": {...}, "matching_rules": [...]}`, with blank keep-alive lines
  every ~20 s. Bearer token from `$TWITTER_BEARER_TOKEN` (a header only, never logged).
- Bluesky Jetstream: a WebSocket of JSON events `{"did", "time_us", "kind": "commit", "commit":
  {"operation": "create", "collection": "app.bsky.feed.post", "record": {"text", ...}}}`. On a
  reconnect it resumes from the last `time_us` seen (the `cursor` parameter), rewound a little and
  de-duplicated, so a dropped connection loses nothing and repeats nothing.

Both reconnect with exponential backoff; a message that is not JSON, or lacks what a post needs,
goes to the dead-letter topic with the reason. Values are kept as received: the buzz pipeline's
parse step normalises both formats to one post schema.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator, Mapping

from riverbed.connectors._http import Backoff, LineStreamSource, RecentIds, json_object, wait
from riverbed.connectors.base import Item, Rejected, Source
from riverbed.log.api import Record
from riverbed.timeutil import parse_time_ms

TWITTER_STREAM = (
    "https://api.twitter.com/2/tweets/search/stream?tweet.fields=created_at,lang,entities,author_id"
    "&expansions=author_id&user.fields=username"
)
JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"


class TwitterStreamSource(LineStreamSource):
    """Twitter API v2 filtered stream (newline-delimited JSON over HTTP), reconnecting with backoff."""

    name = "twitter"

    def __init__(self, url: str = TWITTER_STREAM, *, token: str | None = None, **kw: object) -> None:
        token = token if token is not None else os.environ.get("TWITTER_BEARER_TOKEN")
        super().__init__({"Authorization": f"Bearer {token}"} if token else {}, **kw)  # type: ignore[arg-type]
        self._url = url
        self.seen = RecentIds()
        self.duplicates = 0

    def __repr__(self) -> str:
        return f"TwitterStreamSource({self._url!r})"

    def url(self) -> str:
        return self._url

    def decode_line(self, line: bytes) -> Item:
        msg = json_object(line)
        if isinstance(msg, Rejected):
            return Rejected(msg.value, f"twitter: {msg.reason}")
        if "data" not in msg and "errors" in msg:
            return Rejected(line, f"twitter: stream error message: {str(msg['errors'])[:300]}")
        tweet = msg.get("data", msg)  # an envelope, or an already flattened tweet
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            return Rejected(line, "twitter: message has no data.id")
        if not isinstance(tweet.get("text"), str):
            return Rejected(line, "twitter: tweet has no text")
        try:
            ts = parse_time_ms(tweet["created_at"]) if "created_at" in tweet else None
        except Exception:
            return Rejected(line, f"twitter: created_at {tweet.get('created_at')!r} is not a time")
        if not self.seen.add(tweet["id"]):
            self.duplicates += 1
            return None
        return Record(line, key=tweet["id"].encode(), timestamp=ts)


def jetstream_reason(event: Mapping) -> str | None:
    """Why a Jetstream event is malformed, or None (well-formed, whatever its kind)."""
    if not isinstance(event.get("did"), str) or not isinstance(event.get("time_us"), int):
        return "event has no did or integer time_us"
    if event.get("kind") == "commit":
        c = event.get("commit")
        if not isinstance(c, dict) or not isinstance(c.get("collection"), str):
            return "commit event has no commit.collection"
        if c.get("operation") == "create" and c.get("collection") == POST_COLLECTION:
            rec = c.get("record")
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                return "post create has no record.text"
            if not isinstance(c.get("rkey"), str):
                return "post create has no commit.rkey"
    return None


def is_post(event: Mapping) -> bool:
    c = event.get("commit") or {}
    return event.get("kind") == "commit" and c.get("operation") == "create" and c.get(
        "collection"
    ) == POST_COLLECTION


class JetstreamSource(Source):
    """Bluesky Jetstream over WebSocket: new posts only; resumes by cursor after a disconnect."""

    name = "jetstream"

    def __init__(
        self,
        url: str = JETSTREAM,
        *,
        cursor_us: int | None = None,
        rewind_us: int = 2_000_000,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        open_timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.base_url, self.cursor_us, self.rewind_us = url, cursor_us, rewind_us
        self.backoff = Backoff(backoff_s, max_backoff_s)
        self.open_timeout = open_timeout
        self.seen = RecentIds()
        self.connects = self.skipped = self.duplicates = 0
        self.last_error: str | None = None

    def url(self) -> str:
        q = [("wantedCollections", POST_COLLECTION)]
        if self.cursor_us is not None:
            q.append(("cursor", str(max(0, self.cursor_us - self.rewind_us))))
        sep = "&" if "?" in self.base_url else "?"
        return self.base_url + sep + urllib.parse.urlencode(q)

    def snapshot(self) -> dict:
        return {"cursor_us": self.cursor_us}

    def read(self) -> Iterator[Item]:
        while not self.stopped:
            try:
                yield from self._one_connection()
            except (OSError, TimeoutError) as e:
                self.last_error = f"{type(e).__name__}: {e}"
            if self.stopped:
                return
            yield from wait(self, self.backoff.delay())

    def _one_connection(self) -> Iterator[Item]:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake
        from websockets.sync.client import connect

        try:
            ws = connect(self.url(), open_timeout=self.open_timeout, close_timeout=1, max_size=4 << 20)
        except InvalidHandshake as e:
            raise OSError(f"handshake failed: {e}") from e
        self.connects += 1
        with ws:
            first = True
            while not self.stopped:
                try:
                    msg = ws.recv(timeout=0.25)
                except TimeoutError:
                    yield None
                    continue
                except ConnectionClosed as e:
                    self.last_error = f"closed: {e}"
                    return
                if first:
                    first = False
                    self.backoff.reset()
                yield self._item(msg.encode() if isinstance(msg, str) else msg)

    def _item(self, raw: bytes) -> Item:
        ev = json_object(raw)
        if isinstance(ev, Rejected):
            return Rejected(ev.value, f"jetstream: {ev.reason}")
        reason = jetstream_reason(ev)
        if reason:
            return Rejected(raw, f"jetstream: {reason}")
        t = ev["time_us"]
        self.cursor_us = t if self.cursor_us is None else max(self.cursor_us, t)
        if not is_post(ev):
            self.skipped += 1
            return None
        if not self.seen.add((ev["did"], ev["commit"]["rkey"])):
            self.duplicates += 1
            return None
        return Record(raw, key=ev["did"].encode(), timestamp=t // 1000)
