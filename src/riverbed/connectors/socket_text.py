"""TCP text-line server: `nc HOST PORT` clients send lines, each becomes one record.

Spark's classic `socketTextStream` demo connects to `nc -lk`; here riverbed is the server, so
any number of clients can connect at once. A line ends at "\\n" ("\\r\\n" is trimmed); bytes
after the last newline wait for the rest of the line, and are sent as a line when the client
disconnects. A line longer than `max_line_bytes` goes to the DLQ (its first `max_line_bytes`).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Iterator

from riverbed.connectors.base import Item, LineSplitter, Rejected, Source
from riverbed.errors import InvalidArgument

IDLE_S = 0.1


class SocketTextSource(Source):
    """Listens on `host:port` (0: a free port, see `.port`) as soon as it is created."""

    name = "socket"

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        *,
        max_line_bytes: int = 1 << 20,
        queue_size: int = 10_000,
    ) -> None:
        super().__init__()
        self.max_line_bytes = max_line_bytes
        self._q: queue.Queue[bytes | Rejected] = queue.Queue(maxsize=queue_size)
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        try:
            self._server = socket.create_server((host, port), reuse_port=False, backlog=64)
        except OSError as e:
            raise InvalidArgument(
                f"cannot listen on {host}:{port}: {e.strerror or e}",
                hint="pick another --port (0 picks a free one) or stop what is using it",
            ) from None
        self._server.settimeout(IDLE_S)
        self.host, self.port = self._server.getsockname()[:2]
        self.connections = 0
        self._reading = False

    def read(self) -> Iterator[Item]:
        self._reading = True
        acceptor = threading.Thread(target=self._accept_loop, name="riverbed-socket-accept", daemon=True)
        acceptor.start()
        try:
            while not self.stopped:
                try:
                    yield self._q.get(timeout=IDLE_S)
                except queue.Empty:
                    yield None
            acceptor.join(timeout=2)
            with self._lock:
                for c in self._clients:
                    with contextlib.suppress(OSError):
                        c.shutdown(socket.SHUT_RD)
            # lines already received are written, not lost: drain until every client is done
            while any(t.is_alive() for t in self._threads) or not self._q.empty():
                try:
                    yield self._q.get(timeout=IDLE_S)
                except queue.Empty:
                    continue
        finally:
            self._reading = False

    def _accept_loop(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(IDLE_S)
            with self._lock:
                self._clients.add(conn)
                self.connections += 1
            t = threading.Thread(
                target=self._client_loop, args=(conn,), name="riverbed-socket-client", daemon=True
            )
            self._threads.append(t)
            t.start()

    def _put(self, item: bytes | Rejected) -> None:
        while self._reading:  # backpressure: wait while the ingestor catches up
            try:
                self._q.put(item, timeout=IDLE_S)
                return
            except queue.Full:
                continue

    def _client_loop(self, conn: socket.socket) -> None:
        lines = LineSplitter(self.max_line_bytes)
        try:
            while True:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    if self.stopped:
                        break
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                for item in lines.feed(chunk):
                    self._put(item)
            for item in lines.finish():  # the client is gone: its last line is complete
                self._put(item)
        finally:
            with self._lock:
                self._clients.discard(conn)
            conn.close()

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self._server.close()
