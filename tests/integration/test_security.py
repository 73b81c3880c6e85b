"""Security basics: secrets from the environment never show up in CLI output, connector reprs and logs,
error messages or the dashboard API; the dashboard token is enforced; names users give cannot make
riverbed create or delete anything outside its home."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from riverbed.cli import main
from riverbed.connectors.github import GitHubEventsSource
from riverbed.connectors.social import TwitterStreamSource
from riverbed.urls import mask

GITHUB = "ghp_FUZZsecretGithubToken0001"
TWITTER = "AAAA-twitter-bearer-secret-0002"
DASH = "dashboard-secret-token-0003"
PG_PASSWORD = "pg-Secret-Pw-0004"
SECRETS = (GITHUB, TWITTER, DASH, PG_PASSWORD)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", TWITTER)
    monkeypatch.setenv("RIVERBED_TOKEN", DASH)
    # nothing listens on port 1: every use of the store fails, and its error message must not leak
    monkeypatch.setenv("RIVERBED_STORE", f"postgresql://riverbed:{PG_PASSWORD}@127.0.0.1:1/riverbed")


def run_cli(argv: list[str]) -> tuple[int, str]:
    """main(argv) in-process: (exit status, stdout + stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace", write_through=True)
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, out.buffer.getvalue().decode("utf-8", "replace") + err.getvalue()


def assert_clean(text: str) -> None:
    for s in SECRETS:
        assert s not in text, f"secret {s!r} leaked in: {text[:500]}"


def test_cli_never_prints_secrets_even_with_debug(secret_env: None, tmp_path: Path) -> None:
    for argv in (["query"], ["query", "alerts", "--debug"], ["topics", "list"], ["versions", "logwatch"],
                 ["--debug", "versions", "logwatch"]):
        code, text = run_cli(["--home", str(tmp_path), *argv])
        assert_clean(text)
        if argv[0] == "query":  # the store is unreachable: a clear error, password masked
            assert code == 1 and "riverbed:***@127.0.0.1:1" in text, text


@pytest.mark.parametrize("url", [
    f"postgresql://u:{PG_PASSWORD}@h:5432/db",
    f"postgresql://u:{PG_PASSWORD}@@h/db",
    f"postgresql://u:p@{PG_PASSWORD}@h/db",  # an unencoded @ in the password
    f"postgres://h/db?user=u&password={PG_PASSWORD}",
    f"host=h user=u password={PG_PASSWORD} dbname=db",
])
def test_mask_hides_the_password(url: str) -> None:
    masked = mask(url)
    assert PG_PASSWORD not in masked and PG_PASSWORD[3:] not in masked, masked
    assert "***" in masked


def test_connector_reprs_and_logs_hide_tokens(secret_env: None, caplog: pytest.LogCaptureFixture) -> None:
    gh = GitHubEventsSource(repo="o/r", base_url="http://127.0.0.1:1", timeout=1)
    tw = TwitterStreamSource("http://127.0.0.1:1/stream")
    assert gh._token == GITHUB  # read from the environment...
    assert_clean(repr(gh) + repr(tw) + str(gh.snapshot()) + str(tw.snapshot()))  # ...and never shown
    caplog.set_level(logging.DEBUG)
    with pytest.raises(OSError) as e:  # nothing listens: the poll fails, and its error is clean
        gh._poll()
    assert_clean(str(e.value) + repr(e.value) + caplog.text)


@pytest.fixture
def dashboard(tmp_path: Path, secret_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from riverbed.web import serve_in_thread

    monkeypatch.delenv("RIVERBED_STORE")  # the dashboard reads the home's own store here
    assert main(["--home", str(tmp_path / "home"), "topics", "create", "t"]) == 0
    with serve_in_thread(home=tmp_path / "home", port=0) as s:  # the token comes from $RIVERBED_TOKEN
        yield s.url + "api"


def test_dashboard_enforces_the_token_and_shows_no_secret(dashboard: str) -> None:
    assert httpx.get(dashboard + "/health").status_code == 401
    wrong = {"Authorization": "Bearer wrong-token-xx"}
    assert httpx.get(dashboard + "/health", headers=wrong).status_code == 401
    ok = {"Authorization": f"Bearer {DASH}"}
    for path in ("/health", "/snapshot", "/topics", "/pipelines", "/outputs", "/views", "/dead-letters"):
        r = httpx.get(dashboard + path, headers=ok)
        assert r.status_code == 200, (path, r.text)
        assert_clean(r.text)


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(d.rglob("*"))}


BAD_NAMES = ["../victim", "../../victim", "..", ".", "/tmp/riverbed-abs-victim", "a" * 300, "x\\0y", "x/y",
             "victim/../../victim", "~", "-x"]


def test_user_names_cannot_escape_the_home(tmp_path: Path) -> None:
    home, victim = tmp_path / "home", tmp_path / "victim"
    (victim / "checkpoints").mkdir(parents=True)
    (victim / "keep.txt").write_text("keep")
    (home / "checkpoints" / "x").mkdir(parents=True)  # so ../ through it resolves
    assert main(["--home", str(home), "topics", "create", "t"]) == 0
    before = _snapshot(victim)
    for name in BAD_NAMES:
        for argv in (["topics", "create", name], ["topics", "delete", name], ["topics", "describe", name],
                     ["produce", name, "--file", str(victim / "keep.txt")], ["consume", name, "--max", "1"],
                     ["query", name], ["drop", name, "v1"], ["drop", "logwatch", name],
                     ["switch", "logwatch", name], ["versions", name]):
            code, text = run_cli(["--home", str(home), *argv])
            assert code in (1, 2), (argv, code, text)
            lines = [x for x in text.splitlines() if x.strip()]
            assert len(lines) <= 2 and "Traceback" not in text and "unexpected" not in text, (argv, text)
    assert _snapshot(victim) == before
    assert not Path("/tmp/riverbed-abs-victim").exists()


def test_dashboard_path_parameters_cannot_escape_the_home(dashboard: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    ok = {"Authorization": f"Bearer {DASH}"}
    for name in ("..%2Fvictim", "..%2F..%2Fvictim", "%2Fetc%2Fpasswd", "a" * 300, "x%00y", "..", "%2e%2e"):
        for path in (f"/topics/{name}", f"/outputs/{name}", f"/pipelines/{name}",
                     f"/pipelines/{name}/versions", f"/pipelines/{name}/panels", f"/pipelines/{name}/spec"):
            r = httpx.get(dashboard + path, headers=ok)
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
            assert "root:" not in r.text
        r = httpx.post(dashboard + "/pipelines/logwatch/switch", headers=ok, json={"version": name})
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "victim"]
    assert [p.name for p in victim.iterdir()] == ["keep.txt"]


def test_a_version_name_cannot_escape_the_home(tmp_path: Path) -> None:
    from riverbed.kappa import KappaError, reprocess

    for bad in ("../../outside", "/abs", "a/b", "x" * 300, "v\0"):
        with pytest.raises(KappaError, match="not a version name"):
            reprocess("logwatch", bad, home=tmp_path / "home")
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["home"])
