"""buzz from the command line: `riverbed ingest github` as a real process against a local events
API. (`riverbed train buzz` and `riverbed sql` are tested in test_buzz_pipeline.py, over the lake
and store its stream made.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from riverbed.log import open_log
from riverbed.testing import read_topic

DATA = Path(__file__).parent.parent / "data"


def serve_events(body: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("ETag", '"x"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def cli(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "RIVERBED_HOME": str(home)}
    env.pop("RIVERBED_STORE", None)
    return subprocess.run([sys.executable, "-m", "riverbed", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_ingest_github_from_the_cli(tmp_path: Path) -> None:
    events_file = DATA / "github/github_events_api_2013-01-10_30events.json"
    server, base = serve_events(events_file.read_bytes())
    try:
        r = cli(tmp_path, "ingest", "github", "github", "--repo", "apache/spark", "--api", base,
                "--polls", "1", "--interval", "0.1", timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr
    assert "written 30 / rejected 0" in r.stderr
    with open_log("embedded", home=tmp_path) as lg:
        ids = [json.loads(x.value)["id"] for x in read_topic(lg, "github")]
    assert ids == [e["id"] for e in json.loads(events_file.read_text())][::-1]
