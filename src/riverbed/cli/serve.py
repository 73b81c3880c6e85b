"""`riverbed serve`: the dashboard and its JSON API, over the riverbed home and log.

Serves a web page with live charts of each app (logwatch, bitcoin, buzz) and of the platform
(topics, offsets, consumer lag, rates, micro-batch durations, end-to-end latency, dead letters,
pipeline versions with switch and rollback), and a JSON API under /api (OpenAPI at /openapi.json).
Listens on 127.0.0.1 by default; any other address needs a token, which every /api call must then
send as `Authorization: Bearer TOKEN` (open the page as http://HOST:PORT/#token=TOKEN).
"""

from __future__ import annotations

import argparse

from riverbed.cli._common import non_negative_int, note
from riverbed.pipeline.locations import add_options as add_storage_options
from riverbed.pipeline.locations import apply_options as apply_storage_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve`."""
    p = subparsers.add_parser(
        "serve",
        help="serve the dashboard (live charts of the apps and the platform) and its JSON API",
        description=__doc__.split("\n\n", 1)[1],
        epilog="examples:\n  riverbed serve\n  riverbed serve --port 8080\n"
        "  RIVERBED_TOKEN=$(openssl rand -hex 16) riverbed serve --host 0.0.0.0",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=non_negative_int, default=8050,
                   help="port (default: 8050; 0 picks a free one)")
    p.add_argument("--token", help="require this token on every API call [env: RIVERBED_TOKEN] "
                   "(required when --host is not a loopback address)")
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import threading

    from riverbed.stopping import on_signals
    from riverbed.web import serve_in_thread

    apply_storage_options(args)
    server = serve_in_thread(home=args.home, log=args.log, host=args.host, port=args.port, token=args.token)
    try:
        note(f"dashboard: {server.url}  (API: {server.url}api/, OpenAPI: {server.url}openapi.json)")
        note("Ctrl-C stops")
        stop = threading.Event()
        with on_signals(stop.set):  # SIGINT/SIGTERM: close the server, then exit 130/143
            while server.running and not stop.is_set():
                server.wait(1.0)
    finally:
        server.stop()
    return 0
