"""One schema for every buzz input: GitHub events, Twitter v2 tweets, Bluesky Jetstream posts and
Meetup RSVPs become rows of (source, id, time, author, text, hashtags, terms, lang, repo, type).

The format is recognised from the JSON itself, so any topic may carry any of them:

- github (has `type`, `repo`, `created_at`): time created_at; text = commit messages, PR and
  issue titles, comment bodies, release names, a new repository's description; hashtags = `#tags`
  written in that text; repo and type from the event.
- twitter (`{"data": tweet, "includes"}` envelope, or a flat tweet with `text`, `created_at`):
  time created_at; text; hashtags from entities.hashtags.
- bluesky (Jetstream: `did`, `time_us`, `commit.record.text`): time time_us; facet tags.
- meetup (`rsvp_id`, `mtime`): time mtime; text = event name + group name; hashtags = the
  group's topic keys.

`terms` are what "trending terms" counts: `text` lower-cased, URLs and @mentions removed, split
on anything that is not a letter, digit or underscore, keeping words of 3+ characters that are not
numbers, hex ids (7+ hex digits, e.g. commit shas) or stop words. Hashtags are lower-cased
without the `#`; in GitHub text a tag must start with a letter (`#12` is an issue number).
"""

from __future__ import annotations

import json
import re
from typing import Any

from riverbed.timeutil import parse_time_ms

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@[\w.]+")
_WORD = re.compile(r"[^\W_]\w*")  # starts with a letter or digit; \w is Unicode-aware
_TAG = re.compile(r"(?:^|\s)#([^\W\d_]\w*)")  # "#spark", not "#12" (an issue number)
_HEX_ID = re.compile(r"^[0-9a-f]{7,}$")  # commit shas and other hex ids

#: English stop words (the classic SMART-derived short list) plus social-media and Spanish fillers.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each few for from further get got had hadn has hasn have haven having he her here
    hers herself him himself his how i if in into is isn it its itself just let me more most mustn
    my myself no nor not now of off on once only or other ought our ours ourselves out over own
    same shan she should shouldn so some such than that the their theirs them themselves then there
    these they this those through to too under until up us very was wasn we were weren what when
    where which while who whom why will with won would wouldn you your yours yourself yourselves
    ll re ve amp rt via new one like de la el en los las del que por con para una un se es al lo
    como mas pero sus le ya sin sobre este esta entre cuando todo son hay""".split()  # noqa: SIM905
)


def terms(text: str | None) -> list[str]:
    """The trending-term words of `text` (see the module docstring), in order, repeats kept."""
    if not text:
        return []
    t = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    return [
        w for w in _WORD.findall(t)
        if len(w) >= 3 and not w.isdigit() and w not in STOP_WORDS and not _HEX_ID.match(w)
    ]


def text_tags(text: str | None) -> list[str]:
    """`#tags` written in free text (GitHub), lower-cased, without the `#`."""
    return [m.lower() for m in _TAG.findall(text or "")]


def _github(e: dict) -> dict[str, Any]:
    p = e.get("payload") or {}
    parts: list[str] = [c.get("message") or "" for c in p.get("commits") or [] if isinstance(c, dict)]
    for k in ("pull_request", "issue"):
        if isinstance(p.get(k), dict):
            parts.append(p[k].get("title") or "")
    if isinstance(p.get("comment"), dict):
        parts.append(p["comment"].get("body") or "")
    if isinstance(p.get("release"), dict):
        parts.append(p["release"].get("name") or "")
    if e.get("type") == "CreateEvent":
        parts.append(p.get("description") or "")
    parts += [pg.get("title") or "" for pg in p.get("pages") or [] if isinstance(pg, dict)]
    text = "\n".join(x for x in parts if x)
    actor, repo = e.get("actor") or {}, e.get("repo") or {}
    return {
        "source": "github", "id": str(e["id"]), "time": parse_time_ms(e["created_at"]),
        "author": actor.get("login"), "text": text, "hashtags": text_tags(text), "lang": None,
        "repo": repo.get("name"), "type": e["type"],
    }


def _tweet(t: dict, users: list | None = None) -> dict[str, Any]:
    if not isinstance(t.get("id"), str) or not isinstance(t.get("text"), str):
        raise ValueError("tweet has no id or text")
    author = (t.get("author") or {}).get("username")
    if author is None and users:
        author = next((u.get("username") for u in users if u.get("id") == t.get("author_id")), None)
    tags = [(h.get("tag") or "").lower() for h in (t.get("entities") or {}).get("hashtags") or []]
    return {
        "source": "twitter", "id": t["id"], "time": parse_time_ms(t["created_at"]),
        "author": author or t.get("author_id"), "text": t["text"], "hashtags": [x for x in tags if x],
        "lang": t.get("lang"), "repo": None, "type": "post",
    }


def _bluesky(e: dict) -> dict[str, Any]:
    c = e.get("commit") or {}
    rec = c.get("record") or {}
    if e.get("kind") != "commit" or c.get("operation") != "create" or not isinstance(rec.get("text"), str):
        raise ValueError("not a Jetstream post create (kind=commit, operation=create, record.text)")
    tags = [
        (f.get("tag") or "").lower()
        for facet in rec.get("facets") or [] for f in facet.get("features") or []
        if f.get("$type") == "app.bsky.richtext.facet#tag"
    ]
    langs = rec.get("langs") or [None]
    return {
        "source": "bluesky", "id": f"{e['did']}/{c.get('rkey')}", "time": int(e["time_us"]) // 1000,
        "author": e["did"], "text": rec["text"], "hashtags": [x for x in tags if x], "lang": langs[0],
        "repo": None, "type": "post",
    }


def _rsvp(r: dict) -> dict[str, Any]:
    ev, grp = r.get("event") or {}, r.get("group") or {}
    text = " ".join(x for x in (ev.get("event_name"), grp.get("group_name")) if x)
    tags = [t.get("urlkey", "").lower() for t in grp.get("group_topics") or [] if t.get("urlkey")]
    if not isinstance(r.get("mtime"), int):
        raise ValueError("RSVP has no integer mtime")
    return {
        "source": "meetup", "id": str(r["rsvp_id"]), "time": r["mtime"],
        "author": (r.get("member") or {}).get("member_name"), "text": text, "hashtags": tags,
        "lang": None, "repo": None, "type": "rsvp",
    }


def normalise(value: bytes | str) -> dict[str, Any]:
    """One input record's JSON as a buzz row (with `terms`); raises ValueError naming what is wrong."""
    try:
        obj = json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    try:
        if "did" in obj and "time_us" in obj:
            row = _bluesky(obj)
        elif "rsvp_id" in obj:
            row = _rsvp(obj)
        elif isinstance(obj.get("data"), dict):
            row = _tweet(obj["data"], (obj.get("includes") or {}).get("users"))
        elif "type" in obj and "repo" in obj and "created_at" in obj and "id" in obj:
            row = _github(obj)
        elif "text" in obj and "created_at" in obj:
            row = _tweet(obj)
        else:
            raise ValueError("not a GitHub event, tweet, Jetstream post or Meetup RSVP")
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"missing or mistyped field: {type(e).__name__}: {e}") from None
    except Exception as e:  # parse_time_ms and friends: say what failed
        if isinstance(e, ValueError):
            raise
        raise ValueError(f"{type(e).__name__}: {e}") from None
    _check_types(row)
    row["terms"] = terms(row["text"])
    return row


_TEXT_FIELDS = ("id", "author", "text", "lang", "repo", "type")
_TIME_MS_MIN, _TIME_MS_MAX = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 .. 9999-12-31


def _check_types(row: dict[str, Any]) -> None:
    """ValueError if a field has a type its column cannot hold (so the Arrow parse never fails)."""
    for k in _TEXT_FIELDS:
        if row[k] is not None and not isinstance(row[k], str):
            raise ValueError(f"{k} {row[k]!r} is not text")
    t = row["time"]
    if isinstance(t, bool) or not isinstance(t, int) or not _TIME_MS_MIN <= t <= _TIME_MS_MAX:
        raise ValueError(f"time {t!r} is not epoch ms in years 1-9999")
