"""`riverbed apps` lists what a name can run and where it came from; `riverbed new` writes a project
and refuses to overwrite one or to take a name that is not one."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from riverbed.cli import main


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_apps_lists_the_builtin_apps_with_their_outputs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("apps", "--json")
    assert code == 0
    docs = {d["app"]: d for d in map(json.loads, out.splitlines())}
    assert set(docs) == {"logwatch", "bitcoin", "buzz", "ysb"}
    logwatch = docs["logwatch"]["pipelines"][0]
    assert logwatch["topics"] == ["logs"] and "level_counts" in [o["name"] for o in logwatch["outputs"]]
    assert docs["ysb"]["origin"] == "installed: riverbed, riverbed.apps.ysb.pipeline:build"


def test_new_writes_a_project_that_names_itself_and_refuses_to_overwrite(tmp_path: Path, monkeypatch) -> None:
    code, _, err = cli("new", "shop", "--dir", str(tmp_path))
    assert code == 0 and "created" in err
    root = tmp_path / "shop"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md", "app.py", "data/payments.csv", "pyproject.toml", "tests/test_app.py"]
    monkeypatch.chdir(root)
    code, out, _ = cli("apps", "shop", "--json")  # the bare name, from the project's pyproject.toml
    doc = json.loads(out)
    assert code == 0 and doc["pipelines"][0]["name"] == "shop" and doc["origin"].startswith("configured:")
    code, _, err = cli("new", "shop", "--dir", str(tmp_path))
    assert code == 1 and "exists and is not empty" in err
    code, _, err = cli("new", "9lives", "--dir", str(tmp_path))
    assert code == 1 and "is not an app name" in err
