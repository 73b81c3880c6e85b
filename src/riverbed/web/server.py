"""Run the dashboard: in a background thread (`serve_in_thread`, used by `riverbed demo` and the
tests) on a socket bound before the thread starts, so a busy port is reported at once.

    >>> server = serve_in_thread(home="/tmp/rb", port=0)    # doctest: +SKIP
    >>> server.url                                           # doctest: +SKIP
    'http://127.0.0.1:41234/'
    >>> server.stop()                                        # doctest: +SKIP
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from pathlib import Path

from riverbed.errors import ConfigError
from riverbed.web.auth import check_bind, resolve_token

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


class DashboardServer:
    """A running dashboard: its URL, and `stop()`."""

    def __init__(self, server, thread: threading.Thread, sock: socket.socket, host: str) -> None:
        self._server, self._thread, self._sock = server, thread, sock
        self.host = host
        self.port: int = sock.getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (or `timeout` s pass)."""
        self._thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving: the live streams end, then the server closes."""
        self._server.config.app.state.collector.stop()
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or a ConfigError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use",
                              hint="pass another --port (0 picks a free one)") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}",
                          hint="check --host (an address of this machine) and --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_in_thread(
    home: str | Path | None = None,
    log: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    *,
    start_timeout: float = 15.0,
) -> DashboardServer:
    """Serve the dashboard for `home` / `log` on host:port from a daemon thread; returns once it
    accepts connections. A non-loopback `host` needs a `token` (or $RIVERBED_TOKEN)."""
    import uvicorn

    from riverbed.web.app import create_app

    token = resolve_token(token)
    check_bind(host, token)
    sock = bind(host, port)
    app = create_app(home=str(home) if home is not None else None, log=log, token=token)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="riverbed-dashboard",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigError(f"the dashboard did not start on {host}:{sock.getsockname()[1]}",
                              hint="rerun with --debug and see the log above")
        time.sleep(0.02)
    return DashboardServer(server, thread, sock, host)
