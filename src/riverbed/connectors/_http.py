"""Small stdlib HTTP helpers for the connectors: one request, and a reconnecting line stream.

riverbed's runtime has no third-party HTTP client, so these use `http.client` directly. Secrets
(tokens) travel only in request headers and are never part of a message, a log line or a record.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from riverbed.connectors.base import Item, LineSplitter, Rejected, Source
from riverbed.errors import InvalidArgument, RiverbedError

USER_AGENT = "riverbed-connector"


class ConnectorHttpError(RiverbedError):
    """An HTTP source answered with a status the connector cannot go on from (e.g. 401)."""


@dataclass
class Response:
    """A whole HTTP response: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise InvalidArgument(f"not an http(s) URL: {url!r}", hint="e.g. https://api.github.com/events")
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, u.port, timeout=timeout)
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    return conn, target


def request(url: str, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> Response:
    """GET `url` and read the whole body; network errors raise OSError (callers retry)."""
    conn, target = _connection(url, timeout)
    try:
        conn.request("GET", target, headers={"User-Agent": USER_AGENT, **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    except http.client.HTTPException as e:
        raise OSError(f"HTTP protocol error: {e}") from e
    finally:
        conn.close()


class Backoff:
    """Exponential backoff between reconnects: `first`, doubling up to `cap`; `reset()` on success."""

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self.first, self.cap, self.next = first, cap, first
        self.attempts = 0

    def delay(self) -> float:
        d, self.next = self.next, min(self.cap, self.next * 2)
        self.attempts += 1
        return d

    def reset(self) -> None:
        self.next = self.first


def wait(source: Source, seconds: float) -> Iterator[None]:
    """Sleep `seconds` in slices, yielding None every ~0.2 s so the ingestor can flush and stop."""
    deadline = time.monotonic() + seconds
    while not source.stopped:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        source._stop.wait(min(0.2, left))
        yield None


class LineStreamSource(Source):
    """A long-lived HTTP response of newline-delimited JSON, reconnected with backoff when it drops.

    Subclasses say which URL to open on each (re)connect (`url()`, e.g. with a resume cursor) and
    turn one line into an item (`decode_line()`); blank keep-alive lines are skipped.
    """

    name = "http-stream"

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout: float = 30.0,
        max_reconnects: int | None = None,
    ) -> None:
        super().__init__()
        self.headers = dict(headers or {})
        self.backoff = Backoff(backoff_s, max_backoff_s)
        self.timeout = timeout
        self.max_reconnects = max_reconnects
        self.connects = 0
        self.keepalives = 0
        self.last_error: str | None = None

    def url(self) -> str:
        raise NotImplementedError

    def decode_line(self, line: bytes) -> Item:
        raise NotImplementedError

    def read(self) -> Iterator[Item]:
        while not self.stopped:
            if self.max_reconnects is not None and self.connects > self.max_reconnects:
                return
            try:
                yield from self._one_connection()
            except OSError as e:
                self.last_error = f"{type(e).__name__}: {e}"
            if self.stopped:
                return
            yield from wait(self, self.backoff.delay())

    def _one_connection(self) -> Iterator[Item]:
        conn, target = _connection(self.url(), self.timeout)
        self.connects += 1
        try:
            conn.request("GET", target, headers={"User-Agent": USER_AGENT, **self.headers})
            sock = conn.sock  # getresponse() drops conn.sock when the server will close the stream
            resp = conn.getresponse()
            if resp.status in (401, 403, 404):
                raise ConnectorHttpError(
                    f"{self.name}: {self.url()} answered HTTP {resp.status}",
                    hint="check the URL and the token (it is read from the environment)",
                )
            if resp.status != 200:
                self.last_error = f"HTTP {resp.status}"
                resp.read()
                return
            if sock is not None:
                sock.settimeout(0.25)  # wake up often enough to flush on time and notice stop()
            splitter = LineSplitter()
            got_any = False
            while not self.stopped:
                try:
                    chunk = resp.read1(65536)
                except TimeoutError:
                    yield None
                    continue
                except http.client.HTTPException as e:
                    raise OSError(str(e)) from e
                if not chunk:
                    break  # the server closed the stream: reconnect
                if not got_any:
                    got_any = True
                    self.backoff.reset()
                for line in splitter.feed(chunk):
                    yield self._item(line)
            for line in splitter.finish():
                yield self._item(line)
        finally:
            conn.close()

    def _item(self, line: bytes | Rejected) -> Item:
        if isinstance(line, Rejected):
            return line
        if not line.strip():
            self.keepalives += 1
            return None
        return self.decode_line(line)


def json_object(line: bytes) -> dict | Rejected:
    """The JSON object on `line`, or a Rejected naming what is wrong with it."""
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep
        return Rejected(line, f"invalid JSON: {e}")
    if not isinstance(obj, dict):
        return Rejected(line, f"expected a JSON object, got {type(obj).__name__}")
    return obj


class RecentIds:
    """The most recent ids seen, to drop what a reconnect or an overlapping poll repeats."""

    def __init__(self, kept: int = 10_000) -> None:
        self.ids: OrderedDict[object, None] = OrderedDict()
        self.kept = kept

    def add(self, key: object) -> bool:
        """True if `key` is new (and remember it)."""
        if key in self.ids:
            return False
        self.ids[key] = None
        if len(self.ids) > self.kept:
            self.ids.popitem(last=False)
        return True
