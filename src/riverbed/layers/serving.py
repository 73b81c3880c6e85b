"""The serving layer: one answer from the batch views (times before the cutoff) and the speed views
(times from it), read in one snapshot, so it equals a full recomputation over all data so far.

A row belongs to the batch side when its time span ends at or before the cutoff (`window_end <=
cutoff`; a point in time `t` has the span [t, t+1 ms)), else to the speed side. The batch layer only
computed rows from records before the cutoff, so its rows that end by then are complete; a window
still open at the cutoff comes whole from the speed layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from riverbed.config import resolve_home
from riverbed.store import open_store
from riverbed.store.sqlite import OutputSpec, SqliteStore, StoreError, batch_table, ident


def is_view(spec: OutputSpec) -> bool:
    """A Lambda view: mergeable measures over time (outputs derived by SQL are served as they are)."""
    return bool(spec.measures) and bool(spec.time_columns)


def end_expression(spec: OutputSpec) -> str:
    """SQL for the exclusive end of a row's time span: `window_end` if it has one, else time + 1 ms."""
    if "window_end" in spec.time_columns:
        return ident("window_end")
    return f"({ident(spec.time_columns[0])} + 1)"


def query(
    store: SqliteStore,
    view: str,
    *,
    where: Mapping[str, Any] | None = None,
    since: int | None = None,
    order_by: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of `view`, batch and speed parts merged (just the output's rows if it is no view or no
    batch run has happened yet). Parameters as `SqliteStore.rows`."""
    spec = store.spec(view)
    with store.snapshot():
        pipeline = store.output_pipeline(view)
        lam = store.lambda_state(pipeline) if pipeline and is_view(spec) else None
        if lam is None or not store.has_table(batch_table(view, lam[1])):
            return store.rows(view, where=where, since=since, order_by=order_by, limit=limit)
        cutoff, gen = lam
        cols = ", ".join(ident(c) for c in spec.column_names)
        end = end_expression(spec)
        source = (
            f"(SELECT {cols} FROM {ident(batch_table(view, gen))} WHERE {end} <= ? "
            f"UNION ALL SELECT {cols} FROM {ident(view)} WHERE {end} > ?) AS merged"
        )
        return store.select(spec, source, (cutoff, cutoff), where=where, since=since, order_by=order_by,
                            limit=limit)


def owner(view: str, root: Path) -> str:
    """The pipeline that writes `view`, looked up in the home's store, then in its versions'."""
    from riverbed.kappa.versions import all_versions

    known: set[str] = set()
    for version in ["v1", *all_versions(root)]:
        store = open_store(home=root, version=version)
        pipeline = store.output_pipeline(view)
        if pipeline is not None:
            return pipeline
        known.update(store.outputs())
    raise StoreError(f"no output named {view!r} under {root}",
                     hint=f"known outputs: {', '.join(sorted(known)) or 'none yet'}")


def answer(view: str, *, home: str | Path | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    """What `riverbed query VIEW` prints: the rows of `view` from the version serving its pipeline,
    batch and speed merged (see `query` for the arguments)."""
    from riverbed.kappa import serving_store

    root = resolve_home(home)
    return query(serving_store(owner(view, root), home=root), view, **kwargs)
