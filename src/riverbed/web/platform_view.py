"""The platform as the dashboard shows it: topics, pipelines, lag, micro-batch figures, dead letters.

Everything here reads what riverbed already keeps: the log (`describe`), the serving store
(`metrics`, `state`, `outputs`) and Spark's checkpoint (the offsets each committed micro-batch read,
`<home>/checkpoints/<pipeline>/stream/{offsets,commits}/<N>`, or under $RIVERBED_CHECKPOINTS). Pure
reads: nothing is changed. A checkpoint on a remote file system (s3a://, hdfs://...) is read through
a Spark session running in this process; without one its lag is unknown (None).
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from pathlib import Path
from typing import Any

from riverbed.dlq import DLQ_SUFFIX, as_dead_letter
from riverbed.log import Log
from riverbed.pipeline import locations
from riverbed.store import SqliteStore

RUNNING_WITHIN_MS = 30_000  # a pipeline whose last micro-batch is older than this is "idle"


def topics(log: Log, rates: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Every topic: partitions with start/end offsets, records, bytes, and its append rate."""
    out = []
    for name in log.topics():
        info = log.describe(name)
        parts = [
            {"partition": p.partition, "start": p.start_offset, "end": p.end_offset,
             "records": p.end_offset - p.start_offset, "bytes": p.bytes}
            for p in info.partitions
        ]
        out.append({
            "name": name, "partitions": parts, "records": info.records,
            "bytes": sum(p["bytes"] for p in parts), "end": sum(p["end"] for p in parts),
            "dead_letter_topic": name.endswith(DLQ_SUFFIX), "rate": (rates or {}).get(name, 0.0),
        })
    return out


def checkpoint_dir(home: Path, pipeline: str) -> str:
    """The pipeline's stream checkpoint: a local path or a Hadoop URI (see riverbed.pipeline.locations)."""
    return locations.stream_checkpoint(home, pipeline)


def _batches(folder: str) -> list[int]:
    return sorted((int(name) for name in locations.children(folder) if name.isdigit()), reverse=True)


def _read_offsets(path: str) -> dict[str, dict[int, int]] | None:
    try:
        lines = locations.read_text(path).splitlines()
    except OSError:
        return None
    offsets: dict[str, dict[int, int]] = {}
    for line in lines[2:]:  # "v1", the batch metadata, then one JSON line per source
        try:
            source = json.loads(line)
        except ValueError:
            continue
        if isinstance(source, dict):
            for topic, parts in source.items():
                if isinstance(parts, dict):
                    offsets.setdefault(topic, {}).update({int(p): int(o) for p, o in parts.items()})
    return offsets


def committed_offsets(home: Path, pipeline: str) -> tuple[int | None, dict[str, dict[int, int]]]:
    """The last committed micro-batch id and the offsets it read up to, from Spark's checkpoint.
    Before the first commit: no batch, and the topics planned so far with nothing committed."""
    cp = checkpoint_dir(home, pipeline)
    for batch in _batches(locations.join(cp, "commits")):
        offsets = _read_offsets(locations.join(cp, "offsets", str(batch)))
        if offsets is not None:
            return batch, offsets
    for batch in _batches(locations.join(cp, "offsets")):
        planned = _read_offsets(locations.join(cp, "offsets", str(batch)))
        if planned is not None:
            return None, {t: {} for t in planned}
    return None, {}


def lag(log: Log, home: Path, pipeline: str) -> dict[str, Any]:
    """Records in the log the pipeline's stream has not committed yet, per topic and partition
    (total None, with the reason, when the checkpoint cannot be read from here)."""
    try:
        batch, offsets = committed_offsets(home, pipeline)
    except locations.StorageError as e:
        return {"pipeline": pipeline, "committed_batch": None, "total": None, "partitions": [],
                "unknown": str(e)}
    rows, total = [], 0
    for topic, parts in sorted(offsets.items()):
        if not log.exists(topic):
            continue
        for p in log.describe(topic).partitions:
            done = parts.get(p.partition, p.start_offset)
            behind = max(0, p.end_offset - max(done, p.start_offset))
            total += behind
            rows.append({"topic": topic, "partition": p.partition, "committed": done,
                         "end": p.end_offset, "lag": behind})
    return {"pipeline": pipeline, "committed_batch": batch, "total": total, "partitions": rows}


def pipeline_names(store: SqliteStore, home: Path) -> list[str]:
    """Pipelines riverbed knows about here: those in the store's catalogue (recorded when they ran),
    those owning outputs, and any with a stream checkpoint."""
    names = set(store.catalogue()) | set(store.output_pipelines())
    root = locations.checkpoints_root(home)
    try:
        found = [n for n, is_dir in locations.children(root).items() if is_dir and n != "versions"]
        names.update(n for n in found if locations.children(locations.join(root, n)).get("stream"))
    except locations.StorageError:  # a remote root with no Spark session here: the recorded ones
        pass
    return sorted(names)


def metrics(store: SqliteStore, pipeline: str, limit: int = 120) -> list[dict[str, Any]]:
    """Per micro-batch figures, oldest first, with input rate (records over the time since the
    previous batch) and processing rate (records over the batch's own duration)."""
    rows = store.metrics(pipeline, limit=limit + 1)
    out = []
    for prev, row in zip([None, *rows], rows, strict=False):
        gap_s = (row["at_ms"] - prev["at_ms"]) / 1000 if prev else None
        seconds = row.get("seconds") or 0
        out.append({
            **row,
            "input_rate": round(row.get("records", 0) / gap_s, 1) if gap_s else None,
            "processing_rate": round(row.get("records", 0) / seconds, 1) if seconds else None,
        })
    return out[-limit:]


def pipeline_summary(store: SqliteStore, log: Log, home: Path, name: str, now_ms: int) -> dict[str, Any]:
    """One pipeline's status, totals, last micro-batch and lag."""
    outputs = store.outputs(name)
    last = store.metrics(name, limit=1)
    state = store.state(name)
    try:
        has_checkpoint = locations.exists(checkpoint_dir(home, name))
    except locations.StorageError:  # remote, no Spark session here: lag unknown
        has_checkpoint = False
    if not outputs and not last and not has_checkpoint:
        status = "not running"
    elif last and now_ms - last[-1]["at_ms"] <= RUNNING_WITHIN_MS:
        status = "running"
    else:
        status = "idle"
    return {
        "name": name, "status": status, "outputs": outputs,
        "records": state.get("records", 0),
        "dead_letters_parse": state.get("dead_letters_parse", 0),
        "dead_letters_late": state.get("dead_letters_late", 0),
        "max_event_time_ms": state.get("max_event_time_ms"),
        "last_batch": last[-1] if last else None,
        "lag": lag(log, home, name) if has_checkpoint else None,
    }


def dead_letters(log: Log, sample: int = 5) -> list[dict[str, Any]]:
    """Each dead-letter topic: how many records it holds and the newest few, with their reasons."""
    out = []
    for name in log.topics():
        if not name.endswith(DLQ_SUFFIX):
            continue
        info = log.describe(name)
        newest: deque = deque(maxlen=sample)
        for p in info.partitions:
            start = max(p.start_offset, p.end_offset - sample)
            if start < p.end_offset:
                newest.extend(log.read(name, p.partition, start, sample))
        items = sorted((as_dead_letter(r) for r in newest), key=lambda d: (d.time_ms or 0, d.offset),
                       reverse=True)
        out.append({
            "topic": name, "source_topic": name[: -len(DLQ_SUFFIX)], "count": info.records,
            "sample": [
                {"reason": d.reason, "source": d.source, "origin": d.origin, "time_ms": d.time_ms,
                 "value": (d.value or b"")[:200].decode("utf-8", "replace")}
                for d in items[:sample]
            ],
        })
    return out


class RateSampler:
    """Append rates per topic from end offsets sampled over time (kept for the last `keep` samples)."""

    def __init__(self, keep: int = 300) -> None:
        self.samples: deque[tuple[int, dict[str, int]]] = deque(maxlen=keep)

    def add(self, now_ms: int, ends: dict[str, int]) -> None:
        self.samples.append((now_ms, ends))

    def current(self, over_ms: int = 5_000) -> dict[str, float]:
        """Records/s per topic over about the last `over_ms`."""
        if len(self.samples) < 2:
            return {}
        t1, last = self.samples[-1]
        t0, first = next(((t, e) for t, e in self.samples if t1 - t <= over_ms), self.samples[-2])
        if t1 <= t0:
            t0, first = self.samples[-2]
        span = max(t1 - t0, 1) / 1000
        return {k: round(max(0, v - first.get(k, v)) / span, 1) for k, v in last.items()}

    def series(self) -> dict[str, list[list[float]]]:
        """[[time_ms, records/s], ...] per topic, one point per sample."""
        out: dict[str, list[list[float]]] = {}
        items = list(self.samples)
        for (t0, e0), (t1, e1) in itertools.pairwise(items):
            span = max(t1 - t0, 1) / 1000
            for k, v in e1.items():
                if k in e0:
                    out.setdefault(k, []).append([t1, round(max(0, v - e0[k]) / span, 1)])
        return out
