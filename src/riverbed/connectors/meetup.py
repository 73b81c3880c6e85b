"""Meetup RSVP stream into a topic: newline-delimited JSON over a long-lived HTTP response.

    >>> Ingestor(log, "meetup").run(MeetupRsvpSource())                     # doctest: +SKIP

This is the shape of Meetup's former public stream (`stream.meetup.com/2/rsvps`): one RSVP per
line (`rsvp_id`, `mtime` in epoch ms, `response`, `member`, `event{event_id, event_name, time}`,
`group{group_name, group_topics[...]}`). After a disconnect it reconnects with backoff and asks
for `since_mtime=<last mtime seen>`, dropping the RSVPs it already has (by `rsvp_id`). A line
that is not such an RSVP goes to the dead-letter topic with the reason.
"""

from __future__ import annotations

import urllib.parse

from riverbed.connectors._http import LineStreamSource, RecentIds, json_object
from riverbed.connectors.base import Item, Rejected
from riverbed.log.api import Record

MEETUP_STREAM = "https://stream.meetup.com/2/rsvps"


def rsvp_reason(rsvp: dict) -> str | None:
    """Why `rsvp` is not a usable RSVP, or None."""
    if not isinstance(rsvp.get("rsvp_id"), int):
        return "no integer rsvp_id"
    if not isinstance(rsvp.get("mtime"), int):
        return "no integer mtime (epoch ms)"
    ev = rsvp.get("event")
    if not isinstance(ev, dict) or not ev.get("event_id"):
        return "no event.event_id"
    return None


class MeetupRsvpSource(LineStreamSource):
    """Meetup RSVPs, one JSON object per line, resumed by `since_mtime` after a disconnect."""

    name = "meetup"

    def __init__(self, url: str = MEETUP_STREAM, *, since_mtime: int | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.base_url, self.since_mtime = url, since_mtime
        self.seen = RecentIds()
        self.duplicates = 0

    def url(self) -> str:
        if self.since_mtime is None:
            return self.base_url
        sep = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{sep}{urllib.parse.urlencode({'since_mtime': self.since_mtime})}"

    def snapshot(self) -> dict:
        return {"since_mtime": self.since_mtime}

    def decode_line(self, line: bytes) -> Item:
        rsvp = json_object(line)
        if isinstance(rsvp, Rejected):
            return Rejected(rsvp.value, f"meetup: {rsvp.reason}")
        reason = rsvp_reason(rsvp)
        if reason:
            return Rejected(line, f"meetup: {reason}")
        m = rsvp["mtime"]
        self.since_mtime = m if self.since_mtime is None else max(self.since_mtime, m)
        if not self.seen.add(rsvp["rsvp_id"]):
            self.duplicates += 1
            return None
        return Record(line, key=str(rsvp["event"]["event_id"]).encode(), timestamp=m)
