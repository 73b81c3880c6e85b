"""Offsets of the riverbed Spark source: parsing Kafka-style specs, admission control, splitting.

An offset is `{"topic": {"partition": next_offset}}` (JSON keys are strings), the form Spark keeps
in the query checkpoint. Specs follow Spark's Kafka source: "earliest", "latest", or JSON per
partition where -2 means earliest and -1 latest. Pure functions: no Spark, no log I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from riverbed.errors import DataLoss, InvalidArgument

EARLIEST = -2
LATEST = -1

#: {topic: {"partition": offset}}, as stored in Spark's checkpoint.
Offsets = dict[str, dict[str, int]]
#: {topic: {partition: (first retained offset, end offset)}}, the log's state.
Bounds = dict[str, dict[int, tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class Range:
    """Records [start, end) of one partition: the unit one Spark task reads."""

    topic: str
    partition: int
    start: int
    end: int


def parse_topics(raw: str | None) -> list[str]:
    """The `topic` option (one name or a comma list) as a de-duplicated, ordered list."""
    names = [t.strip() for t in (raw or "").split(",") if t.strip()]
    if not names:
        raise InvalidArgument(
            "the riverbed source needs option 'topic'",
            hint='use .option("topic", "logs") or a comma list "logs,metrics"',
        )
    return list(dict.fromkeys(names))


def parse_spec(raw: str | None, option: str, topics: list[str], default: str) -> str | dict:
    """Parse startingOffsets/endingOffsets: "earliest", "latest", or {topic: {partition: offset}}."""
    text = (raw or default).strip()
    if text.lower() in ("earliest", "latest"):
        return text.lower()
    example = json.dumps({topics[0]: {"0": 23, "1": -2}}, separators=(",", ":"))
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise InvalidArgument(
            f"{option} is neither 'earliest', 'latest' nor valid JSON: {text!r} ({e})",
            hint=f"use earliest, latest or JSON like {example} (-2 earliest, -1 latest)",
        ) from None
    if not isinstance(spec, dict) or not all(isinstance(v, dict) for v in spec.values()):
        raise InvalidArgument(f"{option} JSON must map topic -> {{partition: offset}}, got {text!r}",
                              hint=f"e.g. {example}")
    parsed: dict[str, dict[int, int]] = {}
    for topic, parts in spec.items():
        if topic not in topics:
            raise InvalidArgument(f"{option} names topic {topic!r}, which is not in option 'topic' {topics}")
        try:
            parsed[topic] = {int(p): int(o) for p, o in parts.items()}
        except (TypeError, ValueError):
            raise InvalidArgument(f"{option} for topic {topic!r} must map partition numbers to offsets, "
                                  f"got {parts!r}", hint=f"e.g. {example}") from None
        bad = [o for o in parsed[topic].values() if o < EARLIEST]
        if bad:
            raise InvalidArgument(f"{option} has offset {bad[0]} for topic {topic!r}",
                                  hint="offsets are >= 0, or -2 (earliest) / -1 (latest)")
    return parsed


def resolve(spec: str | dict, option: str, bounds: Bounds, fail_on_data_loss: bool = True) -> Offsets:
    """Turn a parsed spec into concrete offsets for every partition in `bounds`.

    Partitions a JSON spec leaves out start at the earliest (starting) / latest (ending) offset.
    """
    missing = LATEST if option.startswith("ending") else EARLIEST
    out: Offsets = {}
    for topic, parts in bounds.items():
        given = spec.get(topic, {}) if isinstance(spec, dict) else {}
        unknown = sorted(set(given) - set(parts))
        if unknown:
            raise InvalidArgument(f"{option} names partition {unknown[0]} of {topic!r}, which has "
                                  f"partitions 0..{len(parts) - 1}")
        out[topic] = {}
        for p, (first, end) in sorted(parts.items()):
            if isinstance(spec, str):
                want = EARLIEST if spec == "earliest" else LATEST
            else:
                want = given.get(p, missing)
            if want == EARLIEST:
                want = first
            elif want == LATEST:
                want = end
            elif want > end:
                raise InvalidArgument(f"{option} offset {want} for {topic}[{p}] is past its end {end}",
                                      hint="use -1 for latest")
            elif want < first:
                if fail_on_data_loss:
                    raise DataLoss(topic, p, want, first)
                want = first
            out[topic][str(p)] = want
    return out


def pending(start: Offsets, end: Offsets) -> dict[tuple[str, str], tuple[int, int]]:
    """(from, to) per (topic, partition) where `end` is ahead of `start` (missing start: from 0)."""
    out = {}
    for topic, parts in end.items():
        for p, to in parts.items():
            frm = start.get(topic, {}).get(p, 0)
            if to > frm:
                out[(topic, p)] = (frm, to)
    return out


def admit(start: Offsets, latest: Offsets, max_rows: int) -> Offsets:
    """At most `max_rows` records past `start`, shared fairly (water-filling) across partitions."""
    todo = pending(start, latest)
    grant = {k: 0 for k in todo}
    budget = max(int(max_rows), 0)
    # Smallest backlogs first: each takes at most an equal share of what is left.
    order = sorted(todo, key=lambda k: todo[k][1] - todo[k][0])
    for i, k in enumerate(order):
        share = math.ceil(budget / (len(order) - i)) if budget else 0
        grant[k] = min(todo[k][1] - todo[k][0], share)
        budget -= grant[k]
    out: Offsets = {}
    for topic, parts in latest.items():
        out[topic] = {}
        for p in parts:
            frm = start.get(topic, {}).get(p, 0)
            out[topic][p] = frm + grant.get((topic, p), 0)
    return out


def cap(latest: Offsets, target: Mapping[str, Mapping[str, int]] | None) -> Offsets:
    """`latest` no further than `target` (the availableNow end), partition by partition."""
    if target is None:
        return latest
    return {
        t: {p: min(o, target.get(t, {}).get(p, o)) for p, o in parts.items()}
        for t, parts in latest.items()
        if t in target
    }


def split(
    start: Offsets, end: Offsets, max_per_split: int, min_splits: int = 1, min_per_split: int = 1
) -> list[Range]:
    """Ranges to read for start..end: one per partition, big ones cut so tasks run in parallel
    (at most `max_per_split` records each; `min_splits` pieces in all as long as each keeps at
    least `min_per_split` records: smaller tasks cost more in scheduling than they save)."""
    todo = pending(start, end)
    total = sum(to - frm for frm, to in todo.values())
    if not total:
        return []
    size = max(1, min(max_per_split, max(math.ceil(total / max(min_splits, 1)), min_per_split)))
    ranges = []
    for (topic, p), (frm, to) in todo.items():
        pieces = math.ceil((to - frm) / size)
        step = math.ceil((to - frm) / pieces)
        for lo in range(frm, to, step):
            ranges.append(Range(topic, int(p), lo, min(lo + step, to)))
    return ranges
