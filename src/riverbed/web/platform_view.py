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

QUIET_MS = 30_000  # no micro-batch this long (or 3x the slowest recent one): stalled, or idle if caught up
STARTING_WITHIN_MS = 300_000  # a stream recorded this recently with no micro-batch yet is "starting"
CATCHUP_RECORDS = 1_000  # behind by more than this many records, and
CATCHUP_SECONDS = 10.0  # by more than this many seconds of input: "catching up"
STATUSES = ("not running", "starting", "catching up", "live", "stalled", "idle", "failed")


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


def lag(log: Log, home: Path, pipeline: str, topics: list[str] | None = None) -> dict[str, Any]:
    """Records in the log the pipeline's stream has not committed yet, per topic and partition
    (total None, with the reason, when the checkpoint cannot be read from here). Before Spark has
    planned a first micro-batch, `topics` (the pipeline's inputs) count as wholly unread."""
    try:
        batch, offsets = committed_offsets(home, pipeline)
    except locations.StorageError as e:
        return {"pipeline": pipeline, "committed_batch": None, "total": None, "partitions": [],
                "unknown": str(e)}
    if not offsets:
        offsets = {t: {} for t in topics or []}
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


def consume_rate(rows: list[dict[str, Any]]) -> float | None:
    """Records/s the stream consumed over its recent micro-batches (those of the last 5 minutes, at
    most 10): records after the first over the time they span; one batch alone: its own rate."""
    if not rows:
        return None
    recent = [r for r in rows[-10:] if rows[-1]["at_ms"] - r["at_ms"] <= 300_000]
    span_s = (recent[-1]["at_ms"] - recent[0]["at_ms"]) / 1000
    if len(recent) > 1 and span_s > 0:
        return round(sum(r.get("records", 0) for r in recent[1:]) / span_s, 1)
    seconds = recent[-1].get("seconds") or 0
    return round(recent[-1].get("records", 0) / seconds, 1) if seconds else None


def _ago(ms: int) -> str:
    """A duration in words, as the page shows them: "45 s", "8.3 min", "2.5 h"."""
    s = ms / 1000
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


def progress(rows: list[dict[str, Any]], lag_total: int | None, append_rate: float, now_ms: int, *,
             has_outputs: bool, has_checkpoint: bool, recorded_ms: int | None,
             state: dict[str, Any]) -> dict[str, Any]:
    """What the pipeline is doing, from its micro-batch metrics, its lag and its topics' append rate:
    status (one of STATUSES), a one-line detail, and the figures behind it (rate, eta_s)."""
    last = rows[-1] if rows else None
    rate = consume_rate(rows)
    out: dict[str, Any] = {"lag": lag_total, "rate": rate, "append_rate": append_rate, "eta_s": None}
    error_ms = state.get("error_ms")
    if state.get("error") and (last is None or (error_ms or 0) >= last["at_ms"]):
        return {**out, "status": "failed", "detail": str(state["error"])[:300]}
    waiting = f"{lag_total:,} records waiting" if lag_total else "nothing waiting"
    if last is None:
        if not has_outputs and not has_checkpoint:
            return {**out, "status": "not running", "detail": "no outputs, no micro-batch yet"}
        if not has_checkpoint:
            return {**out, "status": "idle", "detail": "ran in batch: no micro-batches"}
        if recorded_ms is not None and now_ms - recorded_ms <= STARTING_WITHIN_MS:
            return {**out, "status": "starting", "detail": f"first micro-batch running; {waiting}"}
        return {**out, "status": "stalled", "detail": f"no micro-batch since it started; {waiting}"}
    age = now_ms - last["at_ms"]
    slowest = max((r.get("seconds") or 0) for r in rows[-10:]) * 1000
    if age > max(QUIET_MS, 3 * slowest):
        restarted = recorded_ms is not None and recorded_ms > last["at_ms"]
        if restarted and has_checkpoint and now_ms - recorded_ms <= STARTING_WITHIN_MS:
            return {**out, "status": "starting", "detail": f"restarted, first micro-batch running; {waiting}"}
        if lag_total:
            return {**out, "status": "stalled", "detail": f"{waiting}, no micro-batch for {_ago(age)}"}
        return {**out, "status": "idle", "detail": f"caught up; no new data for {_ago(age)}"}
    if lag_total and lag_total > CATCHUP_RECORDS and lag_total > append_rate * CATCHUP_SECONDS:
        gain = (rate or 0) - append_rate
        eta = round(lag_total / gain) if gain > 0 else None
        detail = f"{lag_total:,} behind at {rate or 0:,.0f} records/s, " + (
            f"ETA {_ago(eta * 1000)}" if eta is not None else "not gaining on the input")
        return {**out, "status": "catching up", "eta_s": eta, "detail": detail}
    return {**out, "status": "live", "detail": f"last micro-batch {_ago(age)} ago; {waiting}"}


def pipeline_summary(store: SqliteStore, log: Log, home: Path, name: str, now_ms: int,
                     rates: dict[str, float] | None = None) -> dict[str, Any]:
    """One pipeline's status (see `progress`), totals, last micro-batch and lag; `rates`: records/s
    appended per topic now."""
    outputs = store.outputs(name)
    rows = store.metrics(name, limit=10)
    state = store.state(name)
    try:
        has_checkpoint = locations.exists(checkpoint_dir(home, name))
    except locations.StorageError:  # remote, no Spark session here: lag unknown
        has_checkpoint = False
    spec = store.pipeline_spec(name)
    behind = lag(log, home, name, (spec or {}).get("topics")) if has_checkpoint else None
    topics_read = {r["topic"] for r in (behind or {}).get("partitions", [])}
    append_rate = round(sum((rates or {}).get(t, 0.0) for t in topics_read), 1)
    prog = progress(rows, (behind or {}).get("total"), append_rate, now_ms, has_outputs=bool(outputs),
                    has_checkpoint=has_checkpoint, recorded_ms=spec and spec.get("updated_ms"), state=state)
    return {
        "name": name, "status": prog.pop("status"), "detail": prog.pop("detail"), "progress": prog,
        "outputs": outputs,
        "records": state.get("records", 0),
        "dead_letters_parse": state.get("dead_letters_parse", 0),
        "dead_letters_late": state.get("dead_letters_late", 0),
        "max_event_time_ms": state.get("max_event_time_ms"),
        "last_batch": rows[-1] if rows else None,
        "lag": behind,
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
