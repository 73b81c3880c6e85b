"""The dashboard is generic: web/ names no app, imports neither the apps nor the pipeline registry,
and draws a pipeline from its catalogue entry alone (DESIGN: "Apps stand on the platform")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import riverbed.web

WEB = Path(riverbed.web.__file__).parent
APPS = sorted(p.name for p in (WEB.parent / "apps").iterdir() if (p / "pipeline.py").exists())


def test_web_imports_no_app_and_no_registry() -> None:
    for path in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("riverbed.apps", "riverbed.pipeline.registry")), (path.name, name)


def test_web_names_no_app() -> None:
    assert {"logwatch", "bitcoin", "buzz", "ysb"} <= set(APPS)
    for path in [*WEB.glob("*.py"), *(WEB / "static").iterdir()]:
        text = path.read_text().lower()
        assert not [a for a in APPS if a in text], (path.name, [a for a in APPS if a in text])


def test_a_recorded_pipeline_is_drawn_without_its_code(tmp_path: Path) -> None:
    """In a fresh process: a catalogue entry of code that exists nowhere is listed, with its panels."""
    script = f"""
import sys
from riverbed.store import OutputSpec, open_store
from riverbed.web.collector import Collector
store = open_store(home={str(tmp_path)!r})
store.record_pipeline({{"name": "sales", "description": "d",
    "source": {{"module": "gone", "file": "/gone.py"}}, "topics": ["sales"], "event_time": "time",
    "panels": [{{"kind": "top", "output": "per_user", "key": "user", "y": ["total"]}}],
    "outputs": [{{"name": "per_user", "sink": "store", "keys": ["window_start", "user"],
                 "measures": {{"total": "sum"}}, "time": "window_start"}},
                {{"name": "users", "sink": "store", "keys": ["user"], "measures": {{}}, "time": None}}]}})
store.ensure_output("sales", OutputSpec("per_user", [("window_start", "INTEGER"), ("user", "TEXT"),
    ("total", "REAL")], ["window_start", "user"], {{"total": "sum"}}, ["window_start"]))
store.ensure_output("sales", OutputSpec("users", [("user", "TEXT"), ("since", "INTEGER")], ["user"]))
store.apply_batch("sales", 0, {{"per_user": [(0, "ann", 2.0), (60000, "ann", 1.5), (60000, "bo", 4.0)],
                               "users": [("ann", 1), ("bo", 2)]}})
snap = Collector({str(tmp_path)!r}).snapshot(fresh=True)
view = snap["views"]["sales"]
top, table = view["panels"]
print(top["kind"], top["data"]["top"], table["kind"], table["generated"], table["data"]["rows"])
print(snap["platform"]["versions"]["sales"]["note"])
print(sorted(m for m in sys.modules if m.startswith("riverbed.apps")))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "top [{'label': 'bo', 'value': 4.0}, {'label': 'ann', 'value': 1.5}] table True "
        "[{'user': 'ann', 'since': 1}, {'user': 'bo', 'since': 2}]",
        "no versions yet",
        "[]",
    ]


def test_a_panel_this_riverbed_cannot_draw_is_named_and_the_rest_show() -> None:
    from riverbed.pipeline import Panel
    from riverbed.web.panels_view import declared

    entry = {"panels": [{"kind": "heatmap", "output": "grid", "title": "heat"},
                        Panel("top", "per_user", key="user").to_dict(), {"kind": "top", "output": "x"}]}
    found, bad = declared(entry)
    assert found == [Panel("top", "per_user", key="user")]
    assert bad[0] == ("panel 'heat' over 'grid': kind 'heatmap' is not one of "
                      "timeseries, top, table, line, stat")
    assert "needs key=" in bad[1]
