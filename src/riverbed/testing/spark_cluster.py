"""A real Spark standalone cluster (one master, N workers) on 127.0.0.1, for tests.

Started from the pyspark installation (`bin/spark-class`, SPARK_HOME = the pyspark package dir) on
free ports, each worker small (1 core, 1g by default). Every daemon runs in its own process group
(its executors join that group), is killed at interpreter exit (atexit) and, on Linux, when the
process that started it dies (PR_SET_PDEATHSIG). `kill_worker(i)` SIGKILLs one worker and its
executors, as if the machine died.

    >>> with SparkCluster(workers=2) as cluster:           # doctest: +SKIP
    ...     print(cluster.master_url)   # 'spark://127.0.0.1:40123'
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from riverbed.errors import RiverbedError
from riverbed.testing.broker import _die_with_parent, free_port


class ClusterError(RiverbedError):
    """The test Spark cluster could not be started."""


def spark_home() -> Path:
    """The pyspark package directory, which is a complete SPARK_HOME (bin/, jars/)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-class").is_file():
        raise ClusterError(f"no bin/spark-class under {home}",
                           hint="reinstall pyspark: pip install pyspark==4.2.0")
    return home


class SparkCluster:
    """Start a standalone master and `workers` workers; `master_url`, `webui_url`, `state()`."""

    def __init__(self, workers: int = 2, *, cores: int = 1, memory: str = "1g", start_timeout: float = 60.0,
                 base_dir: str | Path | None = None) -> None:
        self.n_workers = workers
        self.cores = cores
        self.memory = memory
        self.start_timeout = start_timeout
        self.dir = Path(base_dir or tempfile.mkdtemp(prefix="riverbed-spark-cluster-"))
        self.port = free_port()
        self.webui_port = free_port()
        self.master: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = []
        self.worker_webui_ports: list[int] = []

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1",
                   SPARK_LOG_DIR=str(self.dir / "logs"), SPARK_WORKER_DIR=str(self.dir / "work"))
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - the child holds it
        try:
            return subprocess.Popen(
                [str(spark_home() / "bin" / "spark-class"), *args], env=self._env(), cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        finally:
            out.close()

    def start(self) -> SparkCluster:
        """Start the master, then the workers, and wait until all workers are registered and ALIVE."""
        atexit.register(self.stop)
        try:
            self.master = self._spawn("master", [
                "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", str(self.port), "--webui-port", str(self.webui_port)])
            self._wait(lambda s: True, "the master web UI")
            for i in range(self.n_workers):
                self.worker_webui_ports.append(free_port())
                self.workers.append(self._start_worker(i))
            self._wait(lambda s: self.alive_workers(s) >= self.n_workers, f"{self.n_workers} workers")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_worker(self, i: int) -> subprocess.Popen[bytes]:
        work = self.dir / "work" / f"worker-{i}"
        work.mkdir(parents=True, exist_ok=True)
        return self._spawn(f"worker-{i}", [
            "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
            "--webui-port", str(self.worker_webui_ports[i]), "--cores", str(self.cores),
            "--memory", self.memory, "--work-dir", str(work), self.master_url])

    def state(self) -> dict[str, Any]:
        """The master's JSON status (workers, active and completed applications)."""
        with urllib.request.urlopen(f"{self.webui_url}/json", timeout=5) as resp:
            return json.load(resp)

    def worker_state(self, i: int) -> dict[str, Any]:
        """Worker `i`'s JSON status (its executors and finished executors, by application)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.worker_webui_ports[i]}/json", timeout=5) as resp:
            return json.load(resp)

    @staticmethod
    def alive_workers(state: dict[str, Any]) -> int:
        return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            daemons = [("master", self.master), *((f"worker-{i}", w) for i, w in enumerate(self.workers))]
            for name, proc in daemons:
                if proc is not None and proc.poll() is not None:
                    raise ClusterError(
                        f"Spark {name} exited with code {proc.returncode}: {self.log_tail(name)}",
                        hint=f"is Java 17 installed? see the logs in {self.dir}")
            with contextlib.suppress(OSError, ValueError):
                if ready(self.state()):
                    return
            time.sleep(0.3)
        raise ClusterError(f"timed out after {self.start_timeout:.0f}s waiting for {what}",
                           hint=f"see the logs in {self.dir}")

    def log_tail(self, name: str, chars: int = 2000) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker `i` and its executors (its process group), as if its machine died."""
        proc = self.workers[i]
        if proc is not None:
            _kill_group(proc)
            self.workers[i] = None

    def restart_worker(self, i: int) -> None:
        """Start worker `i` again (after `kill_worker`) and wait until every worker is ALIVE."""
        if self.workers[i] is None:
            self.workers[i] = self._start_worker(i)
        self._wait(lambda s: self.alive_workers(s) >= self.n_workers, f"worker-{i} to register again")

    def stop(self) -> None:
        """Kill every worker (with its executors) and the master; safe to call twice."""
        for i in range(len(self.workers)):
            self.kill_worker(i)
        if self.master is not None:
            _kill_group(self.master)
            self.master = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> SparkCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)
