"""The dashboard in a real headless Chromium: `riverbed demo` runs logwatch on Spark and serves the
page; logwatch's declared panels fill with data pushed live and numbers change as data arrives.
Then switch and rollback are clicked on a home with two logwatch versions (Kappa), served by
`riverbed serve`. Last, a user's own pipeline (a file riverbed has never seen) run in batch shows
with generated panels holding what was fed, beside a recorded pipeline that does not run and says
so. Screenshots go to the test's own directory (tmp_path)."""

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


def wait_points(page, testid: str, timeout_ms: float, inner: str = "") -> None:
    """Wait until the chart `[data-testid=ID] INNER` has drawn points."""
    js = ("([id, inner]) => Number((document.querySelector(`[data-testid=${id}] ${inner}`) || {dataset: {}})"
          ".dataset.points) > 0")
    page.wait_for_function(js, arg=[testid, inner], timeout=timeout_ms)


LEVELS = "panel-logwatch-level_counts-timeseries"  # logwatch's declared panels, as the page names them
TOP_ERRORS = "panel-logwatch-top_errors-top"


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
        page.wait_for_function("() => document.querySelector('#conn')?.textContent === 'live'",
                               timeout=15_000)
        # the page lists the pipelines in the catalogue: the demo runs logwatch only
        page.locator("[data-testid=view-logwatch]").wait_for(timeout=60_000)
        shown = page.locator("article[data-pipeline]").evaluate_all("els => els.map(e => e.dataset.pipeline)")
        assert shown == ["logwatch"]
        # while Spark works through the history the badge says so: never "idle" or "stalled"
        page.wait_for_function("() => document.querySelector('[data-testid=status-logwatch]')?.textContent "
                               "!== 'not running'", timeout=60_000)
        early = text(page, "status-logwatch")
        assert early in ("starting", "catching up", "live"), (early, text(page, "status-detail-logwatch"))
        page.screenshot(path=str(tmp_path / "dashboard-starting.png"), full_page=True)
        # logwatch's declared panels fill with data pushed by the server
        wait_points(page, LEVELS, 90_000, ".chart")
        wait_points(page, TOP_ERRORS, 30_000, ".bars")
        wait_points(page, "chart-latency", 30_000)
        assert text(page, "status-logwatch") in ("live", "catching up"), text(page, "status-detail-logwatch")
        titles = page.locator("[data-testid=view-logwatch] .panel h4").all_inner_texts()
        assert any(t.startswith("lines per 10 seconds window, by level") for t in titles), titles
        assert any(t.startswith("top error templates") for t in titles)
        assert any(t.startswith("alerts") for t in titles)
        legend = page.locator(f"[data-testid={LEVELS}] .legend").inner_text()
        assert "INFO" in legend or "ERROR" in legend
        page.screenshot(path=str(tmp_path / "dashboard-first.png"), full_page=True)
        # numbers change as new data arrives, without a reload
        records = text(page, "records-logwatch")
        logs_end = page.locator("[data-testid=topic-logs] td").nth(2).inner_text()
        page.wait_for_function(
            "([r, e]) => document.querySelector('[data-testid=records-logwatch]')?.textContent !== r && "
            "document.querySelector('[data-testid=topic-logs] td:nth-child(3)')?.textContent !== e",
            arg=[records, logs_end], timeout=30_000,
        )
        assert text(page, "records-logwatch") not in ("0", "–")
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
    assert proc.returncode == 130, out.read_text()[-3000:]  # stopped by Ctrl-C (SIGINT), cleanly
    assert "Traceback" not in out.read_text(), out.read_text()[-3000:]


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
        page.wait_for_function("() => document.querySelector('[data-testid=status-logwatch]')?.textContent "
                               "!== 'not running'", timeout=10_000)  # the page now reads v2's outputs
        wait_points(page, LEVELS, 10_000, ".chart")
        page.screenshot(path=str(tmp_path / "switched.png"), full_page=True)
        page.locator("button[data-act=rollback][data-pipeline=logwatch]").click()
        page.locator("[data-testid=versions-message]", has_text="now serving v1").wait_for(timeout=10_000)
        page.locator("[data-testid=version-logwatch-v2]", has_text="previous").wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "rolled-back.png"), full_page=True)
    finally:
        stop(proc)


USER_PIPELINE = Path(__file__).resolve().parents[1] / "data" / "user" / "sales.py"
T0 = 1_700_000_040_000  # a whole minute (epoch ms)


def test_a_users_pipeline_on_the_page(browser, spark, tmp_path: Path) -> None:
    import importlib.util
    import shutil

    from riverbed.apps.bitcoin.pipeline import build as bitcoin
    from riverbed.log import Record, TopicConfig, open_log
    from riverbed.pipeline.catalogue import pipeline_spec
    from riverbed.pipeline.runner import Runner
    from riverbed.store import open_store
    from riverbed.web import serve_in_thread

    home, path = tmp_path / "home", tmp_path / "my_sales.py"
    shutil.copy(USER_PIPELINE, path)  # a user's file, not in riverbed's source
    spec = importlib.util.spec_from_file_location("my_sales", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open_log(home=home) as log:
        log.create_topic("sales", TopicConfig(partitions=1))
        fed = ((1_000, "alice,5"), (2_000, "bob,3"), (30_000, "alice,2.5"), (61_000, "alice,1"),
               (62_000, "carol,10"))
        log.append("sales", [Record(v.encode(), timestamp=T0 + dt) for dt, v in fed])
    Runner(module.build(), home=home, spark=spark).batch(source="log")
    open_store(home=home).record_pipeline(pipeline_spec(bitcoin()))  # recorded, never ran: no outputs
    with serve_in_thread(home=home, port=0) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url)
        card = page.locator("[data-testid=view-sales]")
        card.wait_for(timeout=15_000)
        assert text(page, "status-sales") == "idle" and "my_sales.py" in card.locator(".source").inner_text()
        assert "not running" in text(page, "status-bitcoin")
        assert "riverbed run bitcoin" in page.locator("[data-testid=view-bitcoin] .hint").inner_text()
        # the generated time series: one series per user and measure, 8 points, what was fed
        series = "panel-sales-sales_per_minute-timeseries"
        wait_points(page, series, 15_000, ".chart")
        box = page.locator(f"[data-testid={series}]")
        assert box.locator(".chart").get_attribute("data-points") == "8"
        assert box.get_attribute("data-total") == "26.5"  # 21.5 of totals + 5 sales
        assert "alice total 8.50" in box.locator(".totals").inner_text()
        box.locator("select.topn").select_option("3")  # the top 3 series: carol, alice totals, alice sales
        page.wait_for_function(
            f"() => document.querySelector('[data-testid={series}] .chart')?.dataset.points === '5'",
            timeout=5_000)
        # the generated table: sortable, the totals per user
        table = page.locator("[data-testid=panel-sales-sales_per_user-table] table")
        assert table.locator("tbody tr").all_inner_texts() == ["alice\t8.50", "bob\t3", "carol\t10"]
        table.locator("th", has_text="total").click()  # sorted by total, largest first
        page.wait_for_function("() => document.querySelector('[data-testid=panel-sales-sales_per_user-table] "
                               "tbody tr td')?.textContent === 'carol'", timeout=5_000)
        assert table.locator("tbody tr").all_inner_texts() == ["carol\t10", "alice\t8.50", "bob\t3"]
        # riverbed.kappa lists a user's pipeline's versions from its catalogue entry, without its code
        page.locator("[data-testid=version-sales-v1]", has_text="serving").wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "user-pipeline.png"), full_page=True)
        assert not errors, errors
