"""docs/apps.md, "Writing your own app", run as a user would: every code block in order, in a fresh
folder outside the repository, with the stock `riverbed` command on PATH. An app that riverbed's code
has never seen runs as a stream and a batch, through Lambda's `batch`, Kappa's reprocess + switch,
`query`, its own test, and the dashboard; the outcomes are checked, not only the exit statuses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "apps.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
pytestmark = [pytest.mark.slow, pytest.mark.spark]


def blocks() -> list[tuple[str, str, str]]:
    """(language, info after it, code) of every fenced block of docs/apps.md, in order."""
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in BLOCK.finditer(DOC.read_text())]


def json_rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def per_user(rows: list[dict]) -> dict[str, tuple[float, int]]:
    out: dict[str, tuple[float, int]] = {}
    for r in rows:
        total, n = out.get(r["user"], (0.0, 0))
        out[r["user"]] = (round(total + r["total"], 2), n + r["payments"])
    return out


def replace_function(source: str, new_def: str) -> str:
    """`source` with the top-level function that `new_def` defines replaced by it."""
    name = re.search(r"^def (\w+)", new_def, re.M).group(1)
    old = re.search(rf"^def {name}\(.*?(?=^\S)", source, re.S | re.M)
    assert old, f"no def {name} in the generated app"
    return source[:old.start()] + new_def.strip() + "\n\n\n" + source[old.end():]


def test_writing_your_own_app_as_documented(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "RIVERBED_HOME": "", "RIVERBED_LOG": "", "RIVERBED_STORE": ""}
    env = {k: v for k, v in env.items() if v != ""}
    cwd = tmp_path
    outputs: list[str] = []
    for lang, info, code in blocks():
        if lang == "python" and code.startswith("# file: "):
            target = cwd / code.split()[2]
            target.write_text(replace_function(target.read_text(), code.split("\n", 1)[1]))
        elif lang == "python" and code.startswith("# the heart of app.py"):
            app = (cwd / "app.py").read_text()
            for line in code.splitlines()[1:]:  # the docs show what `riverbed new` really writes
                assert line.strip() in app, f"docs/apps.md shows a line app.py does not have: {line!r}"
        elif lang == "python":
            out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                                 text=True, timeout=600)
            assert out.returncode == 0, (code, out.stderr[-3000:])
            outputs.append(out.stdout)
        elif lang == "sh" and info == "background":
            check_dashboard(code, cwd, env)
        elif lang == "sh":
            script = f"set -e\n{code}\npwd > {tmp_path / '.cwd'}\n"
            out = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                                 timeout=600)
            assert out.returncode == 0, (code, out.stdout[-2000:], out.stderr[-4000:])
            outputs.append(out.stdout)
            cwd = Path((tmp_path / ".cwd").read_text().strip())
    assert cwd == tmp_path / "shop"
    # the stream, then v2 (the new code: cents) after the switch, each over the sample's 5 good lines
    first, after_switch = [json_rows(o) for o in outputs if json_rows(o) and '"user"' in o][:2]
    assert per_user(first) == {"alice": (12.5, 2), "bob": (7.25, 2), "carol": (1.0, 1)}
    assert per_user(after_switch) == {"alice": (1250, 2), "bob": (725, 2), "carol": (100, 1)}
    assert (tmp_path / "shop" / ".riverbed" / "versions" / "v2").is_dir()


def check_dashboard(code: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the documented `riverbed serve`, read the address it prints, check the app's panels are
    there with its real figures, then stop it with Ctrl-C (SIGINT)."""
    proc = subprocess.Popen(["bash", "-c", f"exec {code.strip()}"], cwd=cwd, env=env, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "riverbed serve ended before printing its address"
            m = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", line)
            url = m.group(1) if m else None
        assert url, "riverbed serve printed no address"
        with urllib.request.urlopen(url + "api/pipelines/shop/panels", timeout=30) as r:
            panels = json.load(r)
        text = json.dumps(panels)
        assert "totals" in text and "alice" in text, text[:2000]
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=30) in (0, 130)
        finally:
            if proc.poll() is None:
                proc.kill()
