"""GitHub events API poller: `/events`, `/repos/OWNER/REPO/events` or `/orgs/ORG/events` into a topic.

    >>> src = GitHubEventsSource(repo="apache/spark")                       # doctest: +SKIP
    >>> Ingestor(log, "github").run(src)                                    # doctest: +SKIP

It plays by the API's rules: conditional requests (`If-None-Match` with the last ETag; a 304 costs
no rate limit), at most one poll per `X-Poll-Interval` seconds, and when `X-RateLimit-Remaining`
hits 0 (a 403 or 429 answer) it sleeps until `X-RateLimit-Reset`. Each poll follows `Link:
rel="next"` pages up to `max_pages`. Events already seen (by id) are skipped, since polls overlap;
new ones are written oldest first, keyed by repository, with `created_at` as the record time.
A token, if any, comes from `$GITHUB_TOKEN` and is only ever sent as a header.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator

from riverbed.connectors._http import ConnectorHttpError, RecentIds, Response, request, wait
from riverbed.connectors.base import Item, Rejected, Source
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record
from riverbed.timeutil import parse_time_ms

API = "https://api.github.com"
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
SEEN_KEPT = 10_000


def events_path(repo: str | None = None, org: str | None = None) -> str:
    """The API path for public events, one repository's or one organisation's."""
    if repo and org:
        raise InvalidArgument("give a repository or an organisation, not both")
    if repo:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            raise InvalidArgument(f"repository {repo!r} is not OWNER/NAME")
        return f"/repos/{repo}/events"
    if org:
        if not re.fullmatch(r"[\w.-]+", org):
            raise InvalidArgument(f"organisation {org!r} is not a plain name")
        return f"/orgs/{org}/events"
    return "/events"


def next_link(link: str | None) -> str | None:
    """The rel="next" URL of a `Link` header, if any."""
    m = _NEXT.search(link or "")
    return m.group(1) if m else None


class GitHubEventsSource(Source):
    """Polls a GitHub events endpoint; yields each new event once as a Record (value = its JSON)."""

    name = "github"

    def __init__(
        self,
        repo: str | None = None,
        org: str | None = None,
        *,
        base_url: str = API,
        token: str | None = None,
        per_page: int = 100,
        max_pages: int = 3,
        min_interval_s: float = 60.0,
        max_polls: int | None = None,
        max_rate_wait_s: float = 3600.0,
        timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self.url = f"{base_url.rstrip('/')}{events_path(repo, org)}?per_page={per_page}"
        self._token = token if token is not None else os.environ.get("GITHUB_TOKEN")
        self.max_pages, self.min_interval_s = max_pages, min_interval_s
        self.max_polls, self.max_rate_wait_s, self.timeout = max_polls, max_rate_wait_s, timeout
        self.etag: str | None = None
        self.seen = RecentIds(SEEN_KEPT)
        self.polls = self.not_modified = self.rate_limited = self.errors = 0
        self.last_interval_s: float = min_interval_s

    def __repr__(self) -> str:  # never shows the token
        return f"GitHubEventsSource({self.url!r}, token={'set' if self._token else 'none'})"

    def _headers(self, conditional: bool) -> dict[str, str]:
        h = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self._token:
            h["Authorization"] = f"Bearer {self._token}"
        if conditional and self.etag:
            h["If-None-Match"] = self.etag
        return h

    def read(self) -> Iterator[Item]:
        while not self.stopped and (self.max_polls is None or self.polls < self.max_polls):
            self.polls += 1
            pause = self.min_interval_s
            try:
                items, pause = self._poll()
            except OSError:
                self.errors += 1
                items, pause = [], min(self.min_interval_s, 5.0 * min(self.errors, 12))
            yield from items
            if self.max_polls is not None and self.polls >= self.max_polls:
                return
            self.last_interval_s = pause
            yield from wait(self, pause)

    def _poll(self) -> tuple[list[Item], float]:
        """One poll (all pages): the new events oldest first, and how long to wait before the next."""
        url: str | None = self.url
        items: list[Item] = []
        pause = self.min_interval_s
        for page in range(self.max_pages):
            if url is None:
                break
            resp = request(url, self._headers(conditional=page == 0), self.timeout)
            pause = max(pause, _int(resp.headers.get("x-poll-interval"), 0))
            if resp.status == 304:
                self.not_modified += 1
                break
            if resp.status in (403, 429) and (
                resp.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in resp.headers
            ):
                self.rate_limited += 1
                return items, self._rate_wait(resp)
            if resp.status in (401, 404) or resp.status == 403:
                raise ConnectorHttpError(
                    f"github: {url.split('?')[0]} answered HTTP {resp.status}: {_message(resp)}",
                    hint="check the repository/organisation name and $GITHUB_TOKEN",
                )
            if resp.status != 200:
                raise OSError(f"HTTP {resp.status}")
            if page == 0:
                self.etag = resp.headers.get("etag", self.etag)
            items.extend(self._events(resp.body))
            url = next_link(resp.headers.get("link"))
            self.errors = 0
        # the API lists newest first: write oldest first, so record times mostly rise
        items.reverse()
        return items, pause

    def _rate_wait(self, resp: Response) -> float:
        """Seconds until the rate limit resets (X-RateLimit-Reset is epoch seconds), at least 1."""
        if "retry-after" in resp.headers:
            return float(max(1, _int(resp.headers["retry-after"], 60)))
        reset = _int(resp.headers.get("x-ratelimit-reset"), int(time.time()) + 60)
        return float(min(self.max_rate_wait_s, max(1, reset - int(time.time()))))

    def _events(self, body: bytes) -> list[Item]:
        try:
            events = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:  # Recursion: nested too deep
            return [Rejected(body, f"github: response is not JSON: {e}")]
        if not isinstance(events, list):
            return [Rejected(body, "github: expected a JSON array of events")]
        out: list[Item] = []
        for ev in events:
            raw = json.dumps(ev, separators=(",", ":"), ensure_ascii=False).encode()
            reason = _invalid(ev)
            if reason:
                out.append(Rejected(raw, f"github: {reason}"))
                continue
            if not self.seen.add(ev["id"]):
                continue
            name = ev["repo"].get("name") if isinstance(ev.get("repo"), dict) else None
            key = name.encode() if isinstance(name, str) else None
            out.append(Record(raw, key=key, timestamp=parse_time_ms(ev["created_at"])))
        return out


def _invalid(ev: object) -> str | None:
    """Why `ev` is not a usable event, or None."""
    if not isinstance(ev, dict):
        return f"event is a {type(ev).__name__}, not an object"
    for field in ("id", "type", "created_at"):
        if not isinstance(ev.get(field), str):
            return f"event has no {field}"
    try:
        parse_time_ms(ev["created_at"])
    except Exception:
        return f"event created_at {ev['created_at']!r} is not a time"
    return None


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _message(resp: Response) -> str:
    try:
        body = resp.json()
        return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""
    except ValueError:
        return ""
