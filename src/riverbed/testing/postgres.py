"""A real PostgreSQL server for test sessions, on 127.0.0.1 and a free port, in a temp directory.

Uses the server binaries on the machine (Debian's postgresql package); when they are missing and
the process runs as root, installs that package first. Without either, `PostgresUnavailable`
says why, so test suites can skip with that reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from riverbed.testing.broker import free_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (not installed, and no root to install it)."""


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).resolve().parent if which else None


def ensure_installed() -> Path:
    """The directory of initdb/pg_ctl, installing Debian's postgresql package if needed (as root)."""
    bindir = _bin_dir()
    if bindir:
        return bindir
    if os.geteuid() != 0:
        raise PostgresUnavailable("PostgreSQL is not installed and this user cannot install it (no root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd)} failed: {done.stderr[-500:]}")
    bindir = _bin_dir()
    if not bindir:
        raise PostgresUnavailable("installed postgresql but found no initdb")
    return bindir


class PostgresServer:
    """`with PostgresServer() as pg:` a throwaway server; `pg.new_database()` gives a fresh DB URL."""

    def __init__(self) -> None:
        self.bindir = ensure_installed()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="riverbed-pg-"))
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # the server refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {(done.stderr or done.stdout)[-800:]}")

    def __enter__(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "server.log"), "-w", "start")
        return self

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def __exit__(self, *exc: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
