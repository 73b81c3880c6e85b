"""Pipeline versions: the registry, lag from each version's checkpoint, switch, rollback, drop."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riverbed.config import resolve_home, version_home
from riverbed.errors import RiverbedError
from riverbed.pipeline import locations
from riverbed.store import SqliteStore, open_store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from riverbed.pipeline.runner import StreamHandle
    from riverbed.pipeline.stream import BatchStats

_DDL = (
    "CREATE TABLE IF NOT EXISTS _rb_versions (pipeline TEXT, version TEXT, options TEXT, created_ms INTEGER,"
    " PRIMARY KEY (pipeline, version))",
    "CREATE TABLE IF NOT EXISTS _rb_aliases (pipeline TEXT PRIMARY KEY, serving TEXT, previous TEXT)",
)


class KappaError(RiverbedError):
    """A version operation that cannot be done as asked (unknown version, still lagging, ...)."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    status: str  # "serving", "previous", "ready" (caught up) or "catching-up"
    lag: int  # records in the log its checkpoint has not reached
    created_ms: int | None
    options: dict[str, Any] = field(default_factory=dict)


_READY: set[str] = set()  # stores whose registry tables this process has created


def _registry(root: Path) -> SqliteStore:
    """The home's own store, which holds the version registry and the serving aliases."""
    store = open_store(home=root)
    if str(store.path) not in _READY:
        with store.transaction() as db:
            for ddl in _DDL:
                db.execute(ddl)
        _READY.add(str(store.path))
    return store


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def _alias(store: SqliteStore, pipeline: str) -> tuple[str, str | None]:
    # every operation starts here; the name becomes a path under the home (checkpoints/, lake/)
    if not _NAME.fullmatch(pipeline) or ".." in pipeline:
        raise KappaError(f"{pipeline[:120]!r} is not a pipeline name",
                         hint="use up to 100 letters, digits, '_', '.' and '-', e.g. logwatch")
    rows = store.read("SELECT serving, previous FROM _rb_aliases WHERE pipeline = ?", (pipeline,))
    return (rows[0][0], rows[0][1]) if rows else ("v1", None)


def serving_version(pipeline: str, *, home: str | Path | None = None) -> str:
    """The version whose outputs answer queries ("v1" until a switch)."""
    return _alias(_registry(resolve_home(home)), pipeline)[0]


def serving_store(pipeline: str, *, home: str | Path | None = None) -> SqliteStore:
    """The serving store of the version that answers `pipeline`'s queries now."""
    root = resolve_home(home)
    return open_store(home=root, version=serving_version(pipeline, home=root))


def all_versions(home: str | Path | None = None) -> list[str]:
    """Every version registered by a reprocess, of any pipeline (besides each one's v1)."""
    rows = _registry(resolve_home(home)).read("SELECT DISTINCT version FROM _rb_versions ORDER BY version")
    return [r[0] for r in rows]


def _known(store: SqliteStore, pipeline: str) -> dict[str, tuple[dict[str, Any], int]]:
    rows = store.read("SELECT version, options, created_ms FROM _rb_versions WHERE pipeline = ?", (pipeline,))
    return {v: (json.loads(o), c) for v, o, c in rows}


def checkpoint_offsets(
    home: Path, pipeline: str, spark: SparkSession | None = None
) -> dict[str, dict[int, int]]:
    """Log offsets the version's stream has committed ({} before its first micro-batch); a checkpoint
    on a remote file system (s3a://, hdfs://...) is read through `spark` or the running session."""
    base = locations.stream_checkpoint(home, pipeline)
    commits = [int(n) for n in locations.children(locations.join(base, "commits"), spark) if n.isdigit()]
    if not commits:
        return {}
    last = locations.join(base, "offsets", str(max(commits)))
    lines = locations.read_text(last, spark).strip().splitlines()
    return {t: {int(p): o for p, o in parts.items()} for t, parts in json.loads(lines[-1]).items()}


def lag(home: Path, pipeline: str, topics: list[str], log_url: str, spark: SparkSession | None = None) -> int:
    """Records in the pipeline's input topics that its checkpoint has not reached."""
    from riverbed.log import open_log

    done = checkpoint_offsets(home, pipeline, spark)
    total = 0
    with open_log(log_url) as log:
        for t in topics:
            for p in log.describe(t).partitions:
                total += p.end_offset - max(done.get(t, {}).get(p.partition, p.start_offset), p.start_offset)
    return total


def versions(pipeline: str, *, home: str | Path | None = None, log: str | None = None) -> list[VersionInfo]:
    """Every version of `pipeline` (an app reference, see riverbed.app) with its status and lag, v1 first."""
    from riverbed.app import pipeline_name
    from riverbed.pipeline.registry import get_pipeline
    from riverbed.spark.options import absolute_log_url

    ref, pipeline = pipeline, pipeline_name(pipeline)
    root = resolve_home(home)
    store = _registry(root)
    serving, previous = _alias(store, pipeline)
    known = _known(store, pipeline)
    spark = locations.spark_for(locations.checkpoints_root(root))  # started only for a remote checkpoint root
    out = []
    for v in ["v1", *sorted(k for k in known if k != "v1")]:
        options, created = known.get(v, ({}, None))
        vhome = version_home(root, v)
        checkpoint = locations.checkpoint_uri(vhome, pipeline)
        if v == "v1" and serving != "v1" and not locations.exists(checkpoint, spark):
            continue
        recorded = open_store(home=root, version=v).pipeline_spec(pipeline)  # the version's catalogue
        topics = list(recorded["topics"] if recorded else get_pipeline(ref, **options).topics)
        behind = lag(vhome, pipeline, topics, absolute_log_url(log, str(root)), spark)
        status = ("serving" if v == serving else "previous" if v == previous
                  else "ready" if behind == 0 else "catching-up")
        out.append(VersionInfo(v, status, behind, created, options))
    return out


def reprocess(
    pipeline: str,
    version: str,
    *,
    home: str | Path | None = None,
    log: str | None = None,
    options: Mapping[str, Any] | None = None,
    available_now: bool = False,
    trigger_ms: int = 1000,
    spark: SparkSession | None = None,
    progress: Callable[[BatchStats], None] | None = None,
    lake: str | None = None,
    checkpoints: str | None = None,
) -> StreamHandle:
    """Run `pipeline` (built with `options`, i.e. the changed code) as `version` from the start of the
    retained log into its own outputs; blocks until caught up (available_now) or Ctrl-C. `lake` and
    `checkpoints` are the home's roots (riverbed.pipeline.locations): the version's go under
    <root>/versions/<v>. `pipeline` is an app reference (riverbed.app): a name, app.py[:ATTR] or
    package.module[:ATTR]."""
    from riverbed.app import pipeline_name
    from riverbed.pipeline.catalogue import pipeline_spec
    from riverbed.pipeline.runner import Runner

    ref, pipeline = pipeline, pipeline_name(pipeline)
    if version == "v1":
        raise KappaError("v1 is the pipeline as first run", hint="name the new version v2, v3, ...")
    if not _NAME.fullmatch(version) or ".." in version:  # it becomes <home>/versions/<version>
        raise KappaError(f"{version[:120]!r} is not a version name", hint="use e.g. v2 or 2026-11-21")
    root = resolve_home(home)
    store = _registry(root)
    known = _known(store, pipeline)
    opts = dict(options or {})
    if version in known and known[version][0] != opts:
        raise KappaError(
            f"{pipeline} {version} exists with other options {known[version][0]}",
            hint=f"choose a new version name, or `riverbed drop {pipeline} {version}` first",
        )
    locations.configure(root, lake=lake, checkpoints=checkpoints)
    runner = Runner(ref, log=log, home=root, version=version, spark=spark, **opts)
    if store.pipeline_spec(runner.pipeline.name) is None:  # the home's catalogue lists every pipeline
        store.record_pipeline(pipeline_spec(runner.pipeline))
    with store.transaction() as db:
        db.execute("INSERT OR IGNORE INTO _rb_versions VALUES (?, ?, ?, ?)",
                   (pipeline, version, json.dumps(opts), time.time_ns() // 1_000_000))
    return runner.stream(trigger_ms=trigger_ms, available_now=available_now, progress=progress)


def switch(pipeline: str, version: str, *, force: bool = False, home: str | Path | None = None,
           log: str | None = None) -> None:
    """Make `version` answer queries, atomically; refused while it still lags unless `force`."""
    from riverbed.app import pipeline_name

    root = resolve_home(home)
    info = {v.version: v for v in versions(pipeline, home=root, log=log)}
    pipeline = pipeline_name(pipeline)
    if version not in info:
        raise KappaError(f"{pipeline} has no version {version!r}",
                         hint=f"versions: {', '.join(info) or 'none'}; create one with `riverbed reprocess`")
    if info[version].lag and not force:
        raise KappaError(
            f"{pipeline} {version} still lags {info[version].lag} records behind the log",
            hint=f"wait until `riverbed versions {pipeline}` shows it ready, or pass --force",
        )
    store = _registry(root)
    with store.transaction() as db:  # read and write the alias in one transaction
        row = db.execute("SELECT serving FROM _rb_aliases WHERE pipeline = ?", (pipeline,)).fetchone()
        current = row[0] if row else "v1"
        if current == version:
            return
        db.execute("INSERT OR REPLACE INTO _rb_aliases VALUES (?, ?, ?)", (pipeline, version, current))


def rollback(pipeline: str, *, home: str | Path | None = None) -> str:
    """Serve the previous version again; returns it."""
    store = _registry(resolve_home(home))
    with store.transaction() as db:
        row = db.execute(
            "SELECT serving, previous FROM _rb_aliases WHERE pipeline = ?", (pipeline,)
        ).fetchone()
        if not row or not row[1]:
            raise KappaError(f"{pipeline} has no previous version to roll back to")
        db.execute("UPDATE _rb_aliases SET serving = ?, previous = ? WHERE pipeline = ?",
                   (row[1], row[0], pipeline))
        return row[1]


def drop(pipeline: str, version: str, *, home: str | Path | None = None,
         spark: SparkSession | None = None) -> None:
    """Delete a version's outputs, checkpoints and lake; refused for the serving version. Remote
    ones (s3a://, hdfs://...) through `spark`, the running session or one started for it."""
    root = resolve_home(home)
    store = _registry(root)
    serving, previous = _alias(store, pipeline)
    if version == serving:
        raise KappaError(f"{pipeline} {version} is serving queries",
                         hint="switch to another version first")
    if version != "v1" and version not in _known(store, pipeline):
        raise KappaError(f"{pipeline} has no version {version!r}")
    vhome = version_home(root, version)
    if version == "v1":  # the home's own: only this pipeline's parts
        parts = [locations.checkpoint_uri(vhome, pipeline), locations.lake_uri(vhome, pipeline)]
        spark = locations.spark_for(*parts, spark=spark)
        for name in store.outputs(pipeline):
            store.drop_output(name)
        for part in parts:
            locations.delete(part, spark)
    else:  # the version home, and its roots under <lake|checkpoints root>/versions/<v> if elsewhere
        parts = [locations.checkpoints_root(vhome), locations.lake_root(vhome)]
        spark = locations.spark_for(*parts, spark=spark)
        open_store(home=root, version=version).destroy()
        locations.delete(str(vhome))
        for part in parts:
            locations.delete(part, spark)
    with store.transaction() as db:
        db.execute("DELETE FROM _rb_versions WHERE pipeline = ? AND version = ?", (pipeline, version))
        if previous == version:
            db.execute("UPDATE _rb_aliases SET previous = NULL WHERE pipeline = ?", (pipeline,))
