"""Who may use the dashboard: loopback by default, a token everywhere else.

Bound to a loopback address (127.0.0.1, ::1, localhost) the dashboard needs no token; bound to any
other address it refuses to start without one. With a token set, every /api call must carry it as
`Authorization: Bearer TOKEN` (the live stream, which browsers open with EventSource and cannot
give headers, may pass `?token=TOKEN` instead), compared in constant time. Without a token the
server still checks the Host header is a loopback name (so a web page on another site cannot reach
it by DNS rebinding), and state-changing calls (POST) must be JSON from the page's own origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from fastapi import HTTPException, Request

from riverbed.errors import ConfigError

ENV_TOKEN = "RIVERBED_TOKEN"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """True if `host` (a name or address, IPv6 with or without brackets) only listens locally."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_token(token: str | None) -> str | None:
    """The token: the argument > $RIVERBED_TOKEN > none; an empty string means none."""
    value = token if token is not None else os.environ.get(ENV_TOKEN)
    return value or None


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen on a non-loopback address without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve the dashboard on {host} without a token: anyone who can reach that "
            "address could read the data and switch pipeline versions",
            hint=f"pass --token TOKEN or set {ENV_TOKEN}, or bind to 127.0.0.1",
        )
    if token is not None and len(token) < 8:
        raise ConfigError("the dashboard token is too short", hint="use at least 8 characters")


def _host_name(header: str) -> str:
    """The host part of a Host header ("[::1]:8050" -> "::1", "localhost:80" -> "localhost")."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """The checks every /api request passes; `allow_query` lets the SSE stream take ?token=."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def __call__(self, request: Request, allow_query: bool = False) -> None:
        if self.token is None:
            if not is_loopback(_host_name(request.headers.get("host", ""))):
                raise HTTPException(403, "the dashboard serves loopback hosts only (Host header refused)")
        else:
            given = _bearer(request.headers.get("authorization"))
            if given is None and allow_query:
                given = request.query_params.get("token")
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                raise HTTPException(
                    401, "missing or wrong token: send 'Authorization: Bearer TOKEN'",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        if request.method == "POST":
            _check_post(request)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check_post(request: Request) -> None:
    """A POST must be JSON (so a cross-site form cannot send it) and, if it names an origin, ours."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HTTPException(415, "send the request body as JSON (Content-Type: application/json)")
    origin = request.headers.get("origin")
    if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        raise HTTPException(403, f"cross-origin request from {origin} refused")
