"""The dashboard tells the truth at a glance, in a real headless Chromium: a pipeline far behind the
log says "catching up" with an ETA; hovering the latency chart shows the figures the API gives; a
catch-up batch 260 times slower than the rest is clipped (or drawn on a log axis), not flattening the
steady state; the time
range picker changes how many points are drawn; times switch between UTC and local (remembered);
the Spark UI is linked; the API docs (Swagger UI from the swagger-ui-bundle-v2 package) load with
every request to another host refused.

The home is filled through the log and store APIs (no Spark): a topic 50,000 records ahead of the
offsets in a Spark-layout checkpoint, and micro-batch metrics whose times are moved into the past
(one slow first batch 50 min ago, then steady batches). Screenshots go to $RIVERBED_SCREENSHOTS, else
to the test's tmp_path/screenshots; their paths are printed."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from riverbed.log import Record, TopicConfig, open_log
from riverbed.store import OutputSpec, open_store
from riverbed.web import serve_in_thread

END, COMMITTED = 60_000, 10_000  # the topic's end offset, and what the checkpoint committed
STEADY = 12  # steady micro-batches in the newest 4 minutes (every 20 s)
OLDER = 20  # steady ones between 45 and 6 minutes ago
TZ = "Asia/Kolkata"  # the browser's local time zone: UTC+05:30, so local differs from UTC


def dur(ms: float) -> str:
    """The page's duration format (charts.js `dur`), for comparing with the API's figures."""
    s = ms / 1000
    if ms < 1000:
        return f"{round(ms)} ms"
    if ms < 10_000:
        return f"{s:.1f} s"
    return f"{round(s)} s" if ms < 120_000 else f"{s / 60:.1f} min"


def fill(home: Path) -> int:
    """A topic 50,000 records past the checkpoint's committed offsets; micro-batches: a 30 s catch-up
    batch 50 min ago, OLDER steady ones until 6 min ago, STEADY in the newest 4 min. Returns now_ms."""
    from riverbed.apps.logwatch.pipeline import build as logwatch
    from riverbed.pipeline.catalogue import pipeline_spec

    with open_log(home=home) as log:
        log.create_topic("logs", TopicConfig(partitions=1))
        for _ in range(END // 10_000):
            log.append("logs", [Record(b"x") for _ in range(10_000)])
    cp = home / "checkpoints" / "logwatch" / "stream"  # Spark's checkpoint layout
    for d in ("offsets", "commits"):
        (cp / d).mkdir(parents=True)
    (cp / "offsets" / "0").write_text(f'v1\n{{"batchWatermarkMs":0}}\n{{"logs":{{"0":{COMMITTED}}}}}\n')
    (cp / "commits" / "0").write_text('v1\n{"nextBatchWatermarkMs":0}\n')
    store = open_store(home=home)
    store.record_pipeline(pipeline_spec(logwatch()))
    store.ensure_output("logwatch", OutputSpec(
        "level_counts", [("window_start", "INTEGER"), ("window_end", "INTEGER"), ("level", "TEXT"),
                         ("count", "INTEGER")], ["window_start", "window_end", "level"], {"count": "sum"},
        ["window_start", "window_end"]))
    now = time.time_ns() // 1_000_000
    times = ([now - 50 * 60_000] + [now - 45 * 60_000 + i * 60_000 * 39 // OLDER for i in range(OLDER)]
             + [now - 2_000 - (STEADY - 1 - i) * 20_000 for i in range(STEADY)])
    for i, at in enumerate(times):
        first = i == 0
        store.apply_batch("logwatch", i, {"level_counts": [(at - 10_000, at, "INFO", 100 + i)]},
                          state={"records": 180_000 + i * 2_000},
                          metrics={"records": 180_000 if first else 2_000, "bad": 0, "late": 0,
                                   "seconds": 30.0 if first else 0.8 + (i % 3) / 10,
                                   "watermark_ms": at - 12_000,
                                   "latency_p50_ms": 600_000 if first else 850 + i,
                                   "latency_p99_ms": 650_000 if first else 2_300 + 10 * i})
    with sqlite3.connect(home / "serving.db") as db:  # the batches happened at `times`, not just now
        db.executemany("UPDATE _rb_metrics SET at_ms = ? WHERE pipeline = 'logwatch' AND batch_id = ?",
                       [(at, i) for i, at in enumerate(times)])
    return now


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $RIVERBED_SCREENSHOTS, else tmp_path/screenshots."""
    d = Path(os.environ.get("RIVERBED_SCREENSHOTS") or tmp_path / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def shot(page, folder: Path, name: str) -> None:
    """Save a full-page screenshot and print its path."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def points(page, testid: str) -> int:
    """How many points the chart `testid` drew."""
    return int(page.locator(f"[data-testid={testid}]").get_attribute("data-points") or 0)


def test_catch_up_hover_range_zone_and_api_docs(browser, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    home, folder = tmp_path / "home", shots_dir(tmp_path)
    fill(home)
    monkeypatch.setenv("RIVERBED_SPARK_UI", "http://127.0.0.1:4040")
    with serve_in_thread(home=home, port=0) as server:
        url = server.url
        api = httpx.Client(base_url=url + "api", timeout=10)
        context = browser.new_context(viewport={"width": 1400, "height": 1100}, timezone_id=TZ)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)

        # catching up: 50,000 records behind, consuming 100 records/s (2,000 every 20 s), nothing appended
        badge = page.locator("[data-testid=status-logwatch]")
        page.wait_for_function("() => document.querySelector('[data-testid=status-logwatch]')?.textContent "
                               "=== 'catching up'", timeout=15_000)
        pl = api.get("/pipelines/logwatch").json()
        assert pl["status"] == "catching up" and pl["lag"]["total"] == END - COMMITTED
        assert pl["progress"]["rate"] == 100.0 and pl["progress"]["eta_s"] == 500
        detail = page.locator("[data-testid=status-detail-logwatch]").inner_text()
        assert detail == "50,000 behind at 100 records/s, ETA 8.3 min", detail
        assert "catching-up" in badge.get_attribute("class")
        row = page.locator("[data-testid=pipeline-logwatch]")
        assert "catching up" in row.inner_text() and "ETA 8.3 min" in row.inner_text()
        spark = page.locator("[data-testid=nav-spark]")
        assert spark.is_visible() and spark.get_attribute("href") == "http://127.0.0.1:4040"
        shot(page, folder, "catching-up")

        # the time range: 5 min shows the newest steady batches only, "all" every batch
        metrics = api.get("/pipelines/logwatch/metrics", params={"limit": 1000}).json()
        assert len(metrics) == 1 + OLDER + STEADY
        page.locator("#platform").scroll_into_view_if_needed()
        page.wait_for_function("() => Number(document.querySelector('[data-testid=chart-durations]')"
                               "?.dataset.points) > 0", timeout=10_000)
        assert page.locator("[data-testid=range]").input_value() == "5m"
        assert points(page, "chart-durations") == STEADY
        assert points(page, "chart-latency") == 2 * STEADY  # p50 and p99
        page.locator("[data-testid=range]").select_option("all")
        page.wait_for_function("n => Number(document.querySelector('[data-testid=chart-durations]')"
                               "?.dataset.points) === n", arg=len(metrics), timeout=5_000)
        assert points(page, "chart-latency") == 2 * len(metrics)

        # the catch-up batch (650,000 ms) is clipped and marked; the axis reads in ms / s, never "k"
        latency = page.locator("[data-testid=chart-latency]")
        assert latency.get_attribute("data-clipped") == "2"  # its p50 and p99
        assert "▲ 2 above" in latency.locator(".clip-note").text_content()
        labels = latency.locator("text.axis").all_text_contents()
        y_labels = [t for t in labels if t.endswith((" ms", " s"))]
        assert len(y_labels) >= 3 and not any("k" in t for t in labels), labels
        top_label = max(float(t.split()[0]) * (1 if t.endswith(" s") else 0.001) for t in y_labels)
        assert top_label < 10  # seconds: the steady state (2-3 s) fills the chart
        shot(page, folder, "range-all-clipped")
        page.locator("[data-testid=scale]").select_option("log")  # a log axis: nothing clipped, decades
        page.wait_for_function("() => document.querySelector('[data-testid=chart-latency]')?.dataset.clipped "
                               "=== '0'", timeout=5_000)
        labels = latency.locator("text.axis").all_text_contents()
        assert {"1.0 s", "10 s", "100 s"} <= set(labels), labels
        assert points(page, "chart-latency") == 2 * len(metrics)
        shot(page, folder, "log-scale")
        page.locator("[data-testid=scale]").select_option("clip")

        # hover the newest point of the latency chart: the tooltip gives its time and both values
        newest = metrics[-1]
        box = latency.bounding_box()  # the chart's element (its svg is redrawn every second): 200 px high
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + 100)
        tip = latency.locator("[data-testid=tooltip]")
        tip.wait_for(state="visible", timeout=5_000)
        at = datetime.fromtimestamp(newest["at_ms"] / 1000, UTC)
        assert tip.locator("[data-testid=tooltip-x]").inner_text() == at.strftime("%H:%M:%S") + " UTC"
        assert tip.locator("[data-series=p99] .v").inner_text() == dur(newest["latency_p99_ms"])
        assert tip.locator("[data-series=p50] .v").inner_text() == dur(newest["latency_p50_ms"])
        assert dur(newest["latency_p99_ms"]).endswith(" s") and dur(newest["latency_p50_ms"]).endswith(" ms")
        shot(page, folder, "hover")

        # local time: the same point in the browser's zone (UTC+05:30), remembered across a reload
        page.locator("[data-testid=tz]").click()
        page.locator("[data-testid=chart-latency]").scroll_into_view_if_needed()
        box = page.locator("[data-testid=chart-latency]").bounding_box()  # the toggle may move the chart
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + 100, steps=5)  # back over the point
        local = (at + timedelta(hours=5, minutes=30)).strftime("%H:%M:%S") + " local"
        page.wait_for_function("t => document.querySelector('[data-testid=chart-latency] "
                               "[data-testid=tooltip-x]')?.textContent === t", arg=local, timeout=5_000)
        page.reload()
        page.wait_for_function("() => document.querySelector('#updated')?.textContent.endsWith('local')",
                               timeout=10_000)
        assert page.locator("[data-testid=tz]").inner_text() == "local"
        assert page.locator("[data-testid=range]").input_value() == "all"  # the range is kept too
        page.wait_for_function("() => Number(document.querySelector('[data-testid=chart-lag]')"
                               "?.dataset.points) > 1", timeout=10_000)  # the lag, sampled every second
        assert not errors, errors

        # the API docs: Swagger UI served from the package, nothing asked of another host
        foreign: list[str] = []

        def only_here(route) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        docs = context.new_page()
        docs.on("pageerror", lambda e: errors.append(str(e)))
        docs.route("**/*", only_here)
        docs.goto(url)
        docs.locator("[data-testid=nav-api]").click()
        docs.wait_for_url(url + "docs")
        op = docs.locator('.opblock:has([data-path="/api/pipelines/{name}/lag"])')
        op.wait_for(timeout=15_000)
        assert "GET" in op.inner_text()
        op.locator(".opblock-summary").first.click()  # opens: its parameters are listed
        docs.locator(".opblock-body .parameters", has_text="name").first.wait_for(timeout=5_000)
        shot(docs, folder, "api-docs")
        assert not foreign, foreign
        assert not errors, errors
        context.close()
