"""A user's own pipeline on the dashboard: a file riverbed has never seen (copied from
tests/data/user/sales.py to a temp directory and loaded from there) is run in batch mode over a real
log on Spark; the runner records it in the catalogue, and the dashboard (a real server) then lists
it with generated panels whose figures are the sums of what was fed, without importing its code."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from riverbed.log import Record, TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.web import serve_in_thread

pytestmark = pytest.mark.spark

SOURCE = Path(__file__).resolve().parents[1] / "data" / "user" / "sales.py"
T0 = 1_700_000_040_000  # a whole minute (epoch ms)
SALES = [  # (offset from T0 in ms, line)
    (1_000, "alice,5"), (2_000, "bob,3"), (30_000, "alice,2.5"),
    (61_000, "alice,1"), (62_000, "carol,10"), (63_000, "not a sale"),
]


def load_user_pipeline(folder: Path):
    """Copy the user's file into `folder` and build its pipeline from there, as a user's file is."""
    path = folder / "my_sales.py"
    shutil.copy(SOURCE, path)
    spec = importlib.util.spec_from_file_location("my_sales", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module.build()


def run_user_pipeline(home: Path, spark) -> Path:
    """Feed SALES to topic `sales` in `home` and run the user's pipeline over it in batch mode."""
    with open_log(home=home) as log:
        log.create_topic("sales", TopicConfig(partitions=1))
        log.append("sales", [Record(line.encode(), timestamp=T0 + dt) for dt, line in SALES])
    path, pipeline = load_user_pipeline(home.parent)
    result = Runner(pipeline, home=home, spark=spark).batch(source="log")
    assert result.records == 5 and result.bad == 1
    return path


def test_a_users_pipeline_gets_generated_panels(tmp_path: Path, spark) -> None:
    home = tmp_path / "home"
    path = run_user_pipeline(home, spark)
    path.unlink()  # the dashboard reads the catalogue, never the user's code: it may be gone
    assert "my_sales" not in sys.modules
    with serve_in_thread(home=home, port=0) as s, httpx.Client(base_url=s.url + "api", timeout=30) as api:
        listed = {v["pipeline"]: v for v in api.get("/views").json()}
        assert list(listed) == ["sales"] and listed["sales"]["status"] == "idle"  # batch: no micro-batches
        spec = api.get("/pipelines/sales/spec").json()
        assert spec["source"] == {"module": "my_sales", "file": str(path)}
        assert spec["description"] == "user,amount lines -> totals per user per minute"
        assert [(o["name"], o["time"]) for o in spec["outputs"]] == [
            ("sales_per_minute", "window_start"), ("sales_per_user", None)]
        view = api.get("/pipelines/sales/panels").json()
        assert [(p["output"], p["kind"], p["generated"]) for p in view["panels"]] == [
            ("sales_per_minute", "timeseries", True), ("sales_per_user", "table", True)]
        series = view["panels"][0]
        assert series["x"] == "window_start" and series["key"] == "user" and series["y"] == ["total", "sales"]
        assert series["data"]["series"] == {
            "alice total": [[T0, 7.5], [T0 + 60_000, 1.0]], "carol total": [[T0 + 60_000, 10.0]],
            "bob total": [[T0, 3.0]], "alice sales": [[T0, 2], [T0 + 60_000, 1]],
            "carol sales": [[T0 + 60_000, 1]], "bob sales": [[T0, 1]],
        }
        assert series["data"]["order"] == ["carol total", "alice total", "alice sales", "bob total",
                                           "bob sales", "carol sales"]  # by total, then name
        assert series["data"]["totals"]["alice total"] == 8.5 and series["data"]["newest"] == T0 + 60_000
        table = view["panels"][1]["data"]
        assert table["rows"] == [{"user": "alice", "total": 8.5}, {"user": "bob", "total": 3.0},
                                 {"user": "carol", "total": 10.0}]
        pipelines = {p["name"]: p for p in api.get("/pipelines").json()}
        assert pipelines["sales"]["outputs"] == ["sales_per_minute", "sales_per_user"]
        # Kappa reads the pipeline's topics from the catalogue, so the deleted file's versions list:
        # v1 serves, and no stream has read the 6 records in the log yet (the run was a batch)
        versions = api.get("/pipelines/sales/versions").json()
        assert [(v["version"], v["status"], v["lag"]) for v in versions["versions"]] == [("v1", "serving", 6)]
        snap = api.get("/snapshot").json()
        assert [v["version"] for v in snap["platform"]["versions"]["sales"]["versions"]] == ["v1"]
        assert snap["views"]["sales"]["panels"][1]["data"]["rows"][2] == {"user": "carol", "total": 10.0}
