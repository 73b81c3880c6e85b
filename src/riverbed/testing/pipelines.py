"""Run a pipeline over a list of records, in-process, and get its outputs back: the kit a user's
tests use (like Bytewax's `run_main` over a TestingSource, or Quix Streams' test helpers).

    from riverbed.testing import run_pipeline

    result = run_pipeline("app.py", ["alice,10", "bob,3", "oops"], spark=spark)
    assert result.rows("totals") == [{"window_start": ..., "user": "alice", "total": 10.0, ...}, ...]
    assert result.dead_letters[0]["value"] == "oops"

The records go into a fresh embedded log in a temporary home (first input topic, one partition,
in order), and the pipeline runs exactly as `riverbed run` runs it: `mode="stream"` as micro-
batches of `batch_size` records (availableNow), `mode="batch"` once over the whole log. Pass the
test session's SparkSession (`spark=`) so a test costs seconds, not a JVM start.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from riverbed.pipeline import Pipeline

Recordish = str | bytes | Mapping[str, Any]


@dataclass
class PipelineResult:
    """What a run produced: each store output's rows, the dead-lettered records, the records read."""

    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    micro_batches: int = 0

    def rows(self, output: str, *, sort: bool = True) -> list[dict[str, Any]]:
        """The rows of `output` (sorted by every column, so tests compare without caring for order)."""
        rows = self.outputs[output]
        return sorted(rows, key=lambda r: [(v is None, str(v)) for v in r.values()]) if sort else rows

    def frame(self, output: str) -> Any:
        """The rows of `output` as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows(output))


def _value(r: Recordish) -> bytes:
    if isinstance(r, bytes):
        return r
    if isinstance(r, str):
        return r.encode()
    return json.dumps(dict(r), separators=(",", ":")).encode()


def run_pipeline(
    pipeline: str | os.PathLike[str] | Pipeline,
    records: Iterable[Recordish],
    *,
    mode: Literal["stream", "batch"] = "stream",
    batch_size: int | None = None,
    spark: SparkSession | None = None,
    options: Mapping[str, object] | None = None,
) -> PipelineResult:
    """Run `pipeline` (a Pipeline or an app reference such as "app.py") over `records` (strings,
    bytes, or dicts sent as JSON) and return its outputs and dead letters."""
    with _log_of(pipeline, records, options) as (p, home, log_url):
        return _run(p, home, log_url, mode, batch_size, spark)


def assert_stream_equals_batch(pipeline: str | os.PathLike[str] | Pipeline, records: Iterable[Recordish], *,
                               batch_size: int = 2, spark: SparkSession | None = None,
                               options: Mapping[str, object] | None = None) -> PipelineResult:
    """Run `pipeline` over the same log of `records` as a stream of `batch_size`-record micro-batches
    and as a batch, and fail unless every store output holds the same rows both ways; returns the
    stream's result."""
    with _log_of(pipeline, records, options) as (p, home, log_url):
        stream = _run(p, home, log_url, "stream", batch_size, spark)
        batch = _run(p, home, log_url, "batch", None, spark, version="batch-check")
    for name in sorted(set(stream.outputs) | set(batch.outputs)):
        only = "stream" if name not in batch.outputs else "batch" if name not in stream.outputs else None
        assert only is None, f"output {name}: only the {only} wrote it"
        assert stream.rows(name) == batch.rows(name), (
            f"output {name}: the stream's rows differ from the batch's\nstream: {stream.rows(name)}\n"
            f"batch:  {batch.rows(name)}")
    return stream


@contextmanager
def _log_of(pipeline: str | os.PathLike[str] | Pipeline, records: Iterable[Recordish],
            options: Mapping[str, object] | None) -> Iterator[tuple[Pipeline, Path, str]]:
    """The pipeline, and a temporary home whose embedded log holds `records` in its first topic."""
    from riverbed.log import TopicConfig, open_log
    from riverbed.pipeline.registry import get_pipeline

    p = get_pipeline(pipeline, **dict(options or {}))
    values = [_value(r) for r in records]
    home = Path(tempfile.mkdtemp(prefix="riverbed-test-"))
    try:
        log_url = f"embedded://{home / 'log'}"
        with open_log(log_url) as log:
            for t in p.topics:
                log.create_topic(t, TopicConfig(partitions=1))
            if values:
                log.append_values(p.topics[0], values)
        yield p, home, log_url
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run(p: Pipeline, home: Path, log_url: str, mode: str, batch_size: int | None,
         spark: SparkSession | None, version: str | None = None) -> PipelineResult:
    from riverbed.pipeline.runner import Runner

    runner = Runner(p, log=log_url, home=home, spark=spark, version=version)
    result = PipelineResult()
    if mode == "batch":
        result.records = runner.batch(source="log").records
    else:
        handle = runner.stream(trigger_ms=0, available_now=True, max_records_per_trigger=batch_size)
        result.records = sum(s.records for s in handle.history)
        result.micro_batches = len(handle.history)
    for o in p.outputs:
        if o.sink == "store" and runner.store.has_table(o.name):
            result.outputs[o.name] = runner.store.rows(o.name)
    result.dead_letters = _dead_letters(log_url, p.dlq_topics)
    return result


def _dead_letters(log_url: str, topics: list[str]) -> list[dict[str, Any]]:
    """Each dead letter as {"topic", "value" (text), "reason", and its other riverbed.* headers}."""
    from riverbed.log import open_log
    from riverbed.testing.records import read_topic

    out = []
    with open_log(log_url) as log:
        for t in topics:
            if not log.exists(t):
                continue
            for r in read_topic(log, t):
                headers = {k.removeprefix("riverbed."): v.decode("utf-8", "replace") for k, v in r.headers}
                out.append({"topic": t, "value": (r.value or b"").decode("utf-8", "replace"), **headers})
    return out
