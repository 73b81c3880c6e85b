"""Lake and checkpoints outside the home, given as Hadoop URIs (file:// here: no S3 or HDFS server on
this machine), reached through Spark's own file systems: a stream stops and resumes from the URI
checkpoint, a batch reads the URI lake, both equal the default layout; Kappa versions live and are
dropped under <root>/versions/<v>; an unknown scheme fails naming it, with the jars to add."""

from __future__ import annotations

from pathlib import Path

import pytest

from riverbed.apps.logwatch.parse import current_year, parse_line
from riverbed.cli import main
from riverbed.kappa import drop, reprocess, versions
from riverbed.log import TopicConfig, open_log
from riverbed.pipeline import locations
from riverbed.pipeline.runner import Runner
from riverbed.web import platform_view

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"
OUTPUTS = ("level_counts", "component_counts")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    out = (DATA / "Hadoop_2k.log").read_text().splitlines()[:200] + (
        DATA / "OpenSSH_2k.log").read_text().splitlines()[:200]
    return sorted(out, key=lambda ln: parse_line(ln, default_year=current_year()).time)


def append(url: str, lines: list[str]) -> None:
    with open_log(url) as log:
        log.ensure_topic("logs", TopicConfig(partitions=2))
        log.append_values("logs", [ln.encode() for ln in lines])


def test_locations_resolve_without_pathlib_on_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "h"
    assert locations.lake_uri(home, "logwatch") == str(home / "lake" / "logwatch")  # today's layout
    assert locations.stream_checkpoint(home / "versions" / "v2", "logwatch") == str(
        home / "versions" / "v2" / "checkpoints" / "logwatch" / "stream")
    monkeypatch.setenv(locations.ENV_LAKE, "s3a://bucket/riverbed/lake/")
    monkeypatch.setenv(locations.ENV_CHECKPOINTS, "hdfs://nn:8020/rb/cp")
    assert locations.lake_uri(home, "logwatch") == "s3a://bucket/riverbed/lake/logwatch"
    assert locations.lake_uri(home / "versions" / "v2", "buzz") == "s3a://bucket/riverbed/lake/versions/v2/buzz"
    assert locations.stream_checkpoint(home, "ysb") == "hdfs://nn:8020/rb/cp/ysb/stream"
    locations.configure(home, lake="file:///data/lake")  # --lake / Runner(lake=) over the environment
    assert locations.lake_uri(home / "versions" / "v3", "x") == "file:///data/lake/versions/v3/x"
    assert locations.checkpoint_uri(home, "x") == "hdfs://nn:8020/rb/cp/x"
    with pytest.raises(locations.StorageError, match="s3a:// file system, not a local path"):
        locations.local_path("s3a://bucket/x")
    with pytest.raises(locations.StorageError, match="not a URI"):
        locations.configure(home, checkpoints="s3a:bucket")


@pytest.mark.spark
def test_stream_restart_and_lake_batch_on_file_uris_equal_default_layout(spark, tmp_path, lines) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    half = len(lines) // 2
    append(url, lines[:half])
    elsewhere, home = tmp_path / "elsewhere", tmp_path / "home"
    lake, cps = f"file://{elsewhere}/lake", f"file://{elsewhere}/checkpoints"
    first = Runner("logwatch", log=url, home=home, spark=spark, lake=lake, checkpoints=cps).start_stream(
        available_now=True)
    first.wait(300)
    assert sum(s.records for s in first.history) == half
    append(url, lines[half:])
    runner = Runner("logwatch", log=url, home=home, spark=spark, lake=lake, checkpoints=cps)  # a restart
    again = runner.start_stream(available_now=True)
    again.wait(300)
    assert sum(s.records for s in again.history) == len(lines) - half  # resumed from the URI checkpoint
    commits = elsewhere / "checkpoints" / "logwatch" / "stream" / "commits"
    assert [p.name for p in commits.iterdir() if p.name.isdigit()]
    assert list((elsewhere / "lake" / "logwatch").rglob("*.parquet"))
    assert not (home / "lake").exists() and not (home / "checkpoints").exists()
    with open_log(url) as log:  # the dashboard reads the URI checkpoint
        assert platform_view.lag(log, home, "logwatch")["total"] == 0

    default = Runner("logwatch", log=url, home=tmp_path / "default", spark=spark)
    default.start_stream(available_now=True).wait(300)
    streamed = {o: runner.store.rows(o) for o in OUTPUTS}
    assert streamed == {o: default.store.rows(o) for o in OUTPUTS}
    assert sum(r["count"] for r in streamed["level_counts"]) == len(lines)
    res = runner.batch(source="lake")  # over the URI lake
    assert res.records == len(lines)
    assert {o: runner.store.rows(o) for o in OUTPUTS} == streamed


@pytest.mark.spark
def test_kappa_version_under_uri_roots_is_reprocessed_and_dropped(spark, tmp_path: Path, lines) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    append(url, lines)
    elsewhere, home = tmp_path / "elsewhere", tmp_path / "home"
    reprocess("logwatch", "v2", home=home, log=url, options={"level_window": "30 seconds"},
              available_now=True, spark=spark, lake=f"file://{elsewhere}/lake/",
              checkpoints=f"file://{elsewhere}/cp")
    v2_lake, v2_cp = elsewhere / "lake" / "versions" / "v2", elsewhere / "cp" / "versions" / "v2"
    assert list((v2_lake / "logwatch").rglob("*.parquet"))
    assert (v2_cp / "logwatch" / "stream" / "commits").is_dir()
    assert not (home / "versions" / "v2" / "lake").exists()
    assert not (home / "versions" / "v2" / "checkpoints").exists()
    info = {v.version: (v.status, v.lag) for v in versions("logwatch", home=home, log=url)}
    assert info == {"v1": ("serving", len(lines)), "v2": ("ready", 0)}  # lag read from the URI checkpoint
    drop("logwatch", "v2", home=home, spark=spark)
    assert not v2_lake.exists() and not v2_cp.exists()
    assert not (home / "versions" / "v2").exists()
    assert [v.version for v in versions("logwatch", home=home, log=url)] == ["v1"]


@pytest.mark.spark
def test_unknown_scheme_is_named_with_the_jars_to_add(spark, tmp_path: Path, lines, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"embedded://{tmp_path / 'log'}"
    append(url, lines[:10])
    runner = Runner("logwatch", log=url, home=tmp_path / "home", spark=spark, lake="foo://bucket/lake",
                    checkpoints=f"file://{tmp_path}/cp")
    with pytest.raises(locations.StorageError, match="no file system for scheme 'foo' \\(in foo://bucket/lake/"
                       "logwatch\\)") as e:
        runner.start_stream(available_now=True)
    assert "spark.jars.packages" in (e.value.hint or "") and "hadoop-aws" in (e.value.hint or "")
    assert not (tmp_path / "cp").exists() and not spark.streams.active
    with pytest.raises(locations.StorageError, match="scheme 's3a'") as e:  # jars missing: not a network call
        locations.exists("s3a://bucket/riverbed/lake", spark)
    assert "org.apache.hadoop:hadoop-aws:3." in (e.value.hint or "")

    monkeypatch.setenv(locations.ENV_CHECKPOINTS, "foo://bucket/cp")  # the dashboard: lag unknown, no error
    with open_log(url) as log:
        lag = platform_view.lag(log, tmp_path / "other", "logwatch")
    assert lag["total"] is None and "'foo'" in lag["unknown"]
    monkeypatch.delenv(locations.ENV_CHECKPOINTS)

    # the CLI option, in this process (its Spark session is reused: no second JVM start-up)
    code = main(["run", "logwatch", "--mode", "batch", "--source", "lake", "--lake", "gs://bucket/riverbed/lake",
                 "--home", str(tmp_path / "cli"), "--log", url])
    err = capsys.readouterr().err
    assert code == 1 and "no file system for scheme 'gs'" in err and "spark.jars.packages" in err, err
