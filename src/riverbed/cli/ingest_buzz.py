"""buzz's ingest kinds: `github` (events API poller), `social` (Twitter v2 filtered stream or
Bluesky Jetstream) and `meetup` (RSVP stream). Tokens come from the environment, never the command
line: GITHUB_TOKEN, TWITTER_BEARER_TOKEN."""

from __future__ import annotations

import argparse


def register_kinds(kinds: argparse._SubParsersAction) -> None:
    """Add the buzz kinds to `riverbed ingest`."""
    from riverbed.cli.ingest import add_common_options

    g = kinds.add_parser(
        "github", help="poll the GitHub events API (ETag, X-Poll-Interval and rate limits honoured)",
        description="Poll /events, /repos/OWNER/REPO/events or /orgs/ORG/events; new events once each, "
        "oldest first, keyed by repository. Token: $GITHUB_TOKEN (optional; 60 requests/h without).",
    )
    scope = g.add_mutually_exclusive_group()
    scope.add_argument("--repo", metavar="OWNER/NAME", help="one repository's events")
    scope.add_argument("--org", metavar="ORG", help="one organisation's events")
    g.add_argument("--api", default="https://api.github.com", help="API base URL (default: %(default)s)")
    g.add_argument("--interval", type=float, default=60.0, metavar="S",
                   help="least seconds between polls; X-Poll-Interval can raise it (default: 60)")
    g.add_argument("--pages", type=int, default=3, help="pages followed per poll (default: 3)")
    g.add_argument("--polls", type=int, metavar="N", help="stop after N polls")
    g.set_defaults(func=run_github)

    s = kinds.add_parser(
        "social", help="social posts: Twitter v2 filtered stream or Bluesky Jetstream (WebSocket)",
        description="Twitter v2 filtered stream (newline-delimited JSON over HTTP; token: "
        "$TWITTER_BEARER_TOKEN) or Bluesky Jetstream (WebSocket, new posts only, resumed by cursor). "
        "Reconnects with exponential backoff.",
    )
    s.add_argument("--source", choices=["twitter", "bluesky"], default="bluesky", help="(default: bluesky)")
    s.add_argument("--url", help="stream URL (default: the public Twitter v2 stream / a Jetstream instance)")
    s.set_defaults(func=run_social)

    m = kinds.add_parser("meetup", help="Meetup RSVP stream (newline-delimited JSON over HTTP)")
    m.add_argument("--url", default="https://stream.meetup.com/2/rsvps", help="(default: %(default)s)")
    m.set_defaults(func=run_meetup)

    for k in (g, s, m):
        add_common_options(k, rate=False)


def run_github(args: argparse.Namespace) -> int:
    from riverbed.cli.ingest import run_source
    from riverbed.connectors.github import GitHubEventsSource

    src = GitHubEventsSource(repo=args.repo, org=args.org, base_url=args.api, max_pages=args.pages,
                             min_interval_s=args.interval, max_polls=args.polls)
    return run_source(args, src, f"polling {src.url.split('?')[0]} every >= {args.interval:g}s")


def run_social(args: argparse.Namespace) -> int:
    from riverbed.cli.ingest import run_source
    from riverbed.connectors.social import JETSTREAM, TWITTER_STREAM, JetstreamSource, TwitterStreamSource

    if args.source == "twitter":
        src = TwitterStreamSource(args.url or TWITTER_STREAM)
        return run_source(args, src, f"reading the Twitter v2 filtered stream {src.url().split('?')[0]}")
    src2 = JetstreamSource(args.url or JETSTREAM)
    return run_source(args, src2, f"reading Bluesky posts from Jetstream {src2.base_url}")


def run_meetup(args: argparse.Namespace) -> int:
    from riverbed.cli.ingest import run_source
    from riverbed.connectors.meetup import MeetupRsvpSource

    return run_source(args, MeetupRsvpSource(args.url), f"reading Meetup RSVPs from {args.url}")
