"""The batch layer: recompute a pipeline's views from the lake (its master dataset) up to a cutoff,
install them as a new generation and move the cutoff, in one commit.

The default cutoff is the stream's watermark (newest event time seen minus the allowed lateness),
rounded down to the minute: records before it have all reached the lake, so the batch views are
complete there, and late records the stream dead-lettered are counted here (the lake keeps them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from riverbed.errors import InvalidArgument
from riverbed.layers.serving import is_view
from riverbed.pipeline import locations
from riverbed.pipeline.batch import load_parsed
from riverbed.pipeline.sinks import lake_path, partial_updates, stamp_rows

if TYPE_CHECKING:
    from riverbed.pipeline.runner import Runner

ALIGN_MS = 60_000


@dataclass
class BatchLayerResult:
    cutoff_ms: int
    generation: int
    records: int
    views: dict[str, int] = field(default_factory=dict)  # view -> rows in the batch view
    seconds: float = 0.0
    origin: str = "--cutoff"  # where the cutoff came from, in words
    later: int = 0  # records in the lake at or after the cutoff: the speed layer's
    first_later_ms: int | None = None  # the earliest of those, for the hint when none came before


def default_cutoff(runner: Runner) -> int:
    """The stream's watermark rounded down to the minute; now (rounded) if no stream ran."""
    return explain_default_cutoff(runner)[0]


def explain_default_cutoff(runner: Runner) -> tuple[int, str]:
    """The default cutoff and where it came from, in words (the stream's watermark, or now)."""
    from riverbed.timeutil import iso

    state = runner.store.state(runner.pipeline.name)
    now = time.time_ns() // 1_000_000
    seen = state.get("max_event_time_ms")
    lateness = runner.pipeline.lateness_ms
    if seen is None:
        mark, why = now, "now, as no stream has run"
    elif seen - lateness > now:
        mark, why = now, "now, as the stream's watermark is in the future"
    else:
        mark = seen - lateness
        why = (f"the stream's watermark {iso(mark)}: its newest event time {iso(seen)} minus the "
               f"pipeline's lateness {lateness / 1000:g}s")
    return mark - mark % ALIGN_MS, why + ", rounded down to the minute"


def run_batch_layer(runner: Runner, cutoff_ms: int | None = None) -> BatchLayerResult:
    """Recompute every view of the runner's pipeline over the lake before the cutoff."""
    from pyspark.sql import functions as F

    p, store = runner.pipeline, runner.store
    if not locations.exists(lake := lake_path(runner.home, p.name), runner.spark):
        raise InvalidArgument(
            f"the lake has no data for {p.name} in {lake}",
            hint=f"the stream keeps every parsed record there: run it first (riverbed run {p.name})",
        )
    started = time.monotonic()
    cutoff, origin = explain_default_cutoff(runner) if cutoff_ms is None else (cutoff_ms, "--cutoff")
    if p.setup_store:
        p.setup_store(store)
    load = {"source": "lake", "log_url": runner.log_url, "home": runner.home}
    good, _ = load_parsed(p, runner.spark, time_to=cutoff, **load)  # type: ignore[arg-type]
    rest, _ = load_parsed(p, runner.spark, time_from=cutoff, **load)  # type: ignore[arg-type]
    later, first_later = rest.agg(F.count(F.lit(1)), F.min(F.unix_millis(F.col(p.event_time)))).first()
    good = good.persist()
    try:
        records = good.count()
        frames = p.transform(good)
        specs, rows = partial_updates({o.name: o for o in p.outputs}, frames)
        stamp_rows(p.outputs, rows, time.time_ns() // 1_000_000)
    finally:
        good.unpersist()
    for spec in specs.values():
        store.ensure_output(p.name, spec)
    views = {name: r for name, r in rows.items() if is_view(specs[name])}
    gen = store.install_batch_views(p.name, cutoff, views)
    return BatchLayerResult(cutoff, gen, records, {k: len(v) for k, v in views.items()},
                            time.monotonic() - started, origin, int(later), first_later)
