"""riverbed's Python worker daemon (spark.python.daemon.module, local masters): pyspark.daemon, except
that a worker whose socket the JVM has already closed ends quietly.

Why: when Spark abandons a task (a streaming query stopped mid micro-batch, a job cancelled, the
context stopping, an output read only in part) it closes that task's Python worker socket. The
worker, finishing, flushes its last bytes into the closed socket, and pyspark's daemon prints the
BrokenPipeError traceback on the console (the JVM copies worker stderr to its own). Nothing can be
lost there, as nobody is left to read those bytes; a failure the JVM did receive is reported by
Spark as before.
"""

from __future__ import annotations

import socket

from pyspark import daemon

_worker = daemon.worker


def worker(sock: socket.socket, authenticated: bool) -> int:
    """pyspark's worker loop for one connection; non-zero (not reused) if the JVM hung up on it."""
    try:
        return _worker(sock, authenticated)
    except (BrokenPipeError, ConnectionResetError):
        return 1


if __name__ == "__main__":
    daemon.worker = worker  # the manager looks `worker` up in its module at each fork
    daemon.manager()
