"""Apps by reference: a file, a file's attribute, a module, a bare name (configured or installed),
and one clear line (exit status 2, nothing written) for every way a reference can be wrong."""

from __future__ import annotations

import contextlib
import io
import sys
import textwrap
from pathlib import Path

import pytest

from riverbed.app import App, AppLoadError, known_apps, load_app, load_pipeline, pipeline_name
from riverbed.cli import main
from riverbed.pipeline import Pipeline

APP = '''
from riverbed.pipeline import Output, Pipeline

def parse(df):
    return df

def transform(df):
    return {"totals": df}

def make(topic="payments", window="1 minute"):
    return Pipeline(name="totals_" + window.split()[0], topics=[topic], parse=parse, transform=transform,
                    outputs=[Output("totals", keys=["user"], measures={"total": "sum"})])

pipeline = make()
'''


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def test_a_file_its_default_pipeline_an_attribute_and_a_factory(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", APP)
    assert load_pipeline(str(path)).name == "totals_1"
    assert load_pipeline(f"{path}:pipeline").topics == ["payments"]
    made = load_pipeline(f"{path}:make", topic="other", window="5 minutes")
    assert (made.name, made.topics) == ("totals_5", ["other"])
    assert load_pipeline(str(path), topic="t2").topics == ["t2"]  # a Pipeline object takes topic only
    with pytest.raises(Exception, match="takes no option 'window'"):
        load_pipeline(str(path), window="2 minutes")
    assert pipeline_name(str(path)) == "totals_1"
    assert load_app(str(path)).origin == f"file {path.resolve()}"


def test_an_app_object_with_several_pipelines_picks_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "multi.py", APP + '''
from riverbed.app import App
app = App("shop", pipelines=[pipeline, lambda: make(window="5 minutes")], description="two")
''')
    app = load_app(str(path))
    assert app.name == "shop" and [p.name for p in app.pipelines()] == ["totals_1", "totals_5"]
    assert load_pipeline(f"{path}:totals_5").name == "totals_5"
    with pytest.raises(AppLoadError, match="has 2 pipelines"):
        load_pipeline(str(path))


def test_a_module_on_the_path_and_a_configured_bare_name(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "shopflows"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    write(pkg, "flows.py", APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_pipeline("shopflows.flows:make", topic="x").topics == ["x"]
    assert load_pipeline("shopflows.flows").name == "totals_1"
    write(tmp_path, "app.py", APP)
    write(tmp_path, "pyproject.toml", '[tool.riverbed.apps]\nmine = "app.py:make"\nmod = "shopflows.flows"\n')
    monkeypatch.chdir(tmp_path)
    known = known_apps()
    assert {"mine", "mod", "logwatch", "bitcoin", "buzz", "ysb"} <= set(known)
    assert known["mine"].origin.startswith("configured:")
    assert load_pipeline("mine", topic="y").topics == ["y"]
    assert load_pipeline("mod").name == "totals_1"
    assert load_pipeline("totals_1").name == "totals_1"  # a pipeline's own name finds its app


def test_builtin_apps_are_installed_entry_points() -> None:
    known = known_apps(Path("/"))
    for name in ("logwatch", "bitcoin", "buzz", "ysb"):
        assert known[name].target == f"riverbed.apps.{name}.pipeline:build", known[name]
        assert known[name].origin.startswith("installed: riverbed")
        assert load_pipeline(name).name == name
    assert load_pipeline("logwatch", topic="mylogs").topics == ["mylogs"]


@pytest.mark.parametrize(("source", "ref", "message"), [
    (None, "missing.py", "no such file: missing.py"),
    ("x = 1 / 0\n", "app.py", "cannot import app.py: ZeroDivisionError: division by zero (app.py line 1)"),
    ("def f(:\n", "app.py", "cannot import app.py: SyntaxError"),
    ("import not_a_module_anywhere\n", "app.py", "No module named 'not_a_module_anywhere'"),
    (APP, "app.py:nothing", "has no attribute 'nothing'"),
    (APP + "number = 3\n", "app.py:number", "number is a int, not a Pipeline, an App or a factory"),
    (APP + "def needs(x):\n    return pipeline\n", "app.py:needs", "needs() needs arguments (x)"),
    (APP + "def wrong():\n    return 3\n", "app.py:wrong", "returned int, not a Pipeline"),
    (APP + "a = make(window='2 minutes')\nb = make()\ndel pipeline\n", "app.py", "holds 2 apps or pipelines"),
    ("", "no_such_module_xyz", "no app or module named 'no_such_module_xyz'"),
    ("", "a b", "no app named 'a b'"),
])
def test_a_bad_reference_is_one_line_exit_2_nothing_written(tmp_path: Path, monkeypatch, source, ref,
                                                             message) -> None:
    monkeypatch.chdir(tmp_path)
    if source is not None:
        write(tmp_path, "app.py", source)
    home = tmp_path / "home"
    code, err = cli("--home", str(home), "run", ref)
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("riverbed: error: ") and message in last, err
    assert not home.exists()  # nothing written
    if source and "1 / 0" in source:  # the user's traceback, trimmed to their own frames
        assert 'File "' + str(tmp_path / "app.py") + '", line 1' in err and "riverbed/" not in err, err
    sys.modules.pop("not_a_module_anywhere", None)


def test_load_errors_from_every_pipeline_command(tmp_path: Path) -> None:
    for argv in (["run", "nope.py"], ["batch", "nope.py"], ["versions", "nope.py"], ["reprocess", "nope.py",
                 "--version", "v2"], ["switch", "nope.py", "v2"], ["rollback", "nope.py"],
                 ["drop", "nope.py", "v2"], ["apps", "nope.py"]):
        code, err = cli("--home", str(tmp_path / "h"), *argv)
        assert code == 2 and "no such file: nope.py" in err, (argv, err)


def test_app_needs_pipelines() -> None:
    with pytest.raises(Exception, match="has no pipelines"):
        App("empty", pipelines=[])
    assert isinstance(load_pipeline(load_pipeline("ysb")), Pipeline)
