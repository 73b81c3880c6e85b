"""The dashboard in a real headless Chromium: `riverbed demo` runs logwatch on Spark and serves the
page; the charts fill with data pushed live, numbers change as data arrives, apps that do not run
say so. Then switch and rollback are clicked on a home with two logwatch versions (Kappa), served
by `riverbed serve`. Screenshots go to the test's own directory (tmp_path)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "logs" / "loghub"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def riverbed(*args: str, home: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "RIVERBED_HOME": str(home)}
    for k in ("RIVERBED_LOG", "RIVERBED_TOKEN"):
        env.pop(k, None)
    with open(out, "w") as f:  # a file, not a pipe: Spark's chatter must never block the process
        return subprocess.Popen([sys.executable, "-m", "riverbed", *args], env=env, stdout=f,
                                stderr=subprocess.STDOUT, text=True)


def wait_for_url(proc: subprocess.Popen, out: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", out.read_text())
        if m:
            return m.group(1)
        assert proc.poll() is None, out.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError("no dashboard URL printed:\n" + out.read_text()[-3000:])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def text(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").first.inner_text()


def wait_points(page, testid: str, timeout_ms: float) -> None:
    js = "(id) => Number((document.querySelector(`[data-testid=${id}]`) || {dataset: {}}).dataset.points) > 0"
    page.wait_for_function(js, arg=testid, timeout=timeout_ms)


def test_demo_dashboard_live_in_chromium(browser, tmp_path: Path) -> None:
    home, out, port = tmp_path / "home", tmp_path / "demo.out", free_port()
    proc = riverbed("demo", "--duration", "150", "--history", "60", "--trigger", "1s", "--home", str(home),
                    "--port", str(port), home=home, out=out)
    try:
        url = wait_for_url(proc, out, 90)
        assert url == f"http://127.0.0.1:{port}/"
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("() => document.querySelector('#conn').textContent === 'live'", timeout=15_000)
        # apps that are not running say so (the demo runs logwatch only)
        for app in ("bitcoin", "buzz"):
            assert text(page, f"status-{app}") == "not running"
        assert "riverbed run bitcoin" in page.locator("#app-bitcoin .hint").inner_text()
        # the logwatch charts fill with data pushed by the server
        wait_points(page, "chart-levels", 90_000)
        wait_points(page, "chart-top-errors", 30_000)
        wait_points(page, "chart-latency", 30_000)
        assert text(page, "status-logwatch") == "running"
        page.screenshot(path=str(tmp_path / "dashboard-first.png"), full_page=True)
        # numbers change as new data arrives, without a reload
        records = text(page, "lw-records")
        logs_end = page.locator("[data-testid=topic-logs] td").nth(2).inner_text()
        page.wait_for_function(
            "([r, e]) => document.querySelector('[data-testid=lw-records]').textContent !== r && "
            "document.querySelector('[data-testid=topic-logs] td:nth-child(3)').textContent !== e",
            arg=[records, logs_end], timeout=30_000,
        )
        assert text(page, "lw-records") not in ("0", "–")
        assert text(page, "connection") == "live" and page.url == url  # never reloaded
        # the platform panels: lag, rates, durations, versions
        wait_points(page, "chart-rates", 10_000)
        wait_points(page, "chart-durations", 10_000)
        assert page.locator("[data-testid=pipeline-logwatch] [data-testid=lag]").inner_text() != "–"
        lag = httpx.get(url + "api/pipelines/logwatch/lag").json()
        assert lag["committed_batch"] is not None and lag["partitions"]  # read from Spark's checkpoint
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        assert not errors, errors
    finally:
        stop(proc)
    assert proc.returncode == 0, out.read_text()[-3000:]


def test_switch_and_rollback_from_the_page(browser, tmp_path: Path) -> None:
    pytest.importorskip("riverbed.kappa", reason="versions not available yet (riverbed.kappa)")
    home = tmp_path / "home"
    lines = (DATA / "HDFS_2k.log").read_bytes()
    subprocess.run([sys.executable, "-m", "riverbed", "topics", "create", "logs", "--partitions", "2",
                    "--home", str(home)], check=True, capture_output=True, timeout=60)
    produce = subprocess.run([sys.executable, "-m", "riverbed", "produce", "logs", "--home", str(home)],
                             input=lines, capture_output=True, timeout=60)
    assert produce.returncode == 0, produce.stderr
    reprocess = subprocess.run(
        [sys.executable, "-m", "riverbed", "reprocess", "logwatch", "--version", "v2", "--available-now",
         "--home", str(home)], capture_output=True, text=True, timeout=240)
    assert reprocess.returncode == 0, reprocess.stderr[-3000:]
    out = tmp_path / "serve.out"
    proc = riverbed("serve", "--port", str(free_port()), "--home", str(home), home=home, out=out)
    try:
        url = wait_for_url(proc, out, 30)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "#versions")
        v2 = page.locator("[data-testid=version-logwatch-v2]")
        v2.locator("text=ready").wait_for(timeout=20_000)
        assert text(page, "status-logwatch") == "not running"  # v1 serves, and it never ran
        v2.locator("button", has_text="switch to v2").click()
        page.locator("[data-testid=versions-message]", has_text="now serving v2").wait_for(timeout=10_000)
        v2.locator("text=serving").wait_for(timeout=10_000)
        page.wait_for_function("() => document.querySelector('[data-testid=status-logwatch]').textContent "
                               "!== 'not running'", timeout=10_000)  # the page now reads v2's outputs
        wait_points(page, "chart-levels", 10_000)
        page.screenshot(path=str(tmp_path / "switched.png"), full_page=True)
        page.locator("button[data-act=rollback][data-pipeline=logwatch]").click()
        page.locator("[data-testid=versions-message]", has_text="now serving v1").wait_for(timeout=10_000)
        page.locator("[data-testid=version-logwatch-v2]", has_text="previous").wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "rolled-back.png"), full_page=True)
    finally:
        stop(proc)
