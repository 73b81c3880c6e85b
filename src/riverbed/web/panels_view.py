"""Each pipeline's view on the dashboard: its panels and their figures, from the catalogue only.

The panels are the ones the pipeline declared (recorded in the store's catalogue when it ran) plus a
generated one for each output none of them draws: a time series of its measures when it has an
event-time column, else a table. A pipeline whose outputs are not in the store yet is "not running"
(with how to start it), never an error; a panel that cannot be read says why in its own `error`
and the others still show.
"""

from __future__ import annotations

from typing import Any

from riverbed.errors import InvalidArgument, RiverbedError
from riverbed.pipeline.panels import Panel
from riverbed.store import OutputSpec
from riverbed.web import panel_data

RUNNING_WITHIN_MS = 30_000  # a pipeline whose last micro-batch is older than this is "idle"


def generated(output: str, spec: OutputSpec | None, time: str | None) -> Panel:
    """The panel drawn for an output no declared panel draws: a time series over its event-time
    column of its summed measures (else its numeric columns), one series per value of its first
    other key; else a sortable table."""
    if spec is None:  # recorded in the catalogue, no rows yet: what it will be
        return Panel("timeseries" if time else "table", output, title=output)
    x = time if time in spec.column_names else (spec.time_columns[0] if spec.time_columns else None)
    if x is None or x not in spec.keys:
        return Panel("table", output, title=output)
    others = [k for k in spec.keys if k != x and k not in spec.time_columns]
    summed = [c for c, m in spec.measures.items() if m == "sum"]  # counts and totals, when there are
    y = summed or panel_data.y_of(Panel("table", output), spec)
    return Panel("timeseries", output, title=output, x=x, y=y, key=others[0] if others else None)


def declared(catalogue: dict[str, Any] | None) -> tuple[list[Panel], list[str]]:
    """The panels the catalogue entry declares, and why any of them cannot be drawn (say, one
    recorded by a newer riverbed with a kind this one does not know)."""
    found, bad = [], []
    for d in (catalogue or {}).get("panels", []):
        try:
            found.append(Panel.from_dict(d))
        except RiverbedError as e:  # its message names the panel
            bad.append(e.message)
        except TypeError as e:  # a field this riverbed does not take
            bad.append(f"panel {d.get('title') or d.get('kind')!r} over {d.get('output')!r}: {e}")
    return found, bad


def panels(catalogue: dict[str, Any] | None, specs: dict[str, OutputSpec]) -> list[tuple[Panel, bool]]:
    """(panel, generated?) for the pipeline: declared ones first, then one per undrawn output."""
    own, _ = declared(catalogue)
    drawn = {p.output for p in own} | {p.markers.output for p in own if p.markers}
    outputs = (catalogue or {}).get("outputs", [])
    times = {o["name"]: o.get("time") for o in outputs if o.get("sink") == "store"}
    names = [*times, *sorted(n for n in specs if n not in times)]
    return [(p, False) for p in own] + [
        (generated(n, specs.get(n), times.get(n)), True) for n in names if n not in drawn
    ]


def status(store: Any, pipeline: str, present: list[str], now_ms: int) -> tuple[str, int | None]:
    """("not running" | "running" | "idle", the time of its last micro-batch)."""
    last = store.metrics(pipeline, limit=1)
    updated = last[-1]["at_ms"] if last else None
    if not present:
        return "not running", updated
    return ("running" if updated and now_ms - updated <= RUNNING_WITHIN_MS else "idle"), updated


def view(store: Any, pipeline: str, catalogue: dict[str, Any] | None, now_ms: int, *,
         select: str | None = None, top: int | None = None, points: int | None = None,
         data: bool = True) -> dict[str, Any]:
    """The pipeline's view: status, totals, and each panel with its figures (or why not); without
    `data`, the panels alone (what /api/views lists)."""
    present = store.outputs(pipeline)
    owned = set(present)
    for o in (catalogue or {}).get("outputs", []):  # e.g. an output another step created
        if store.has_table(o["name"]) and o["name"] not in owned:
            owned.add(o["name"])
    specs = {}
    for name in sorted(owned | {p.output for p in declared(catalogue)[0]}):
        try:
            specs[name] = store.spec(name)
        except RiverbedError:
            continue
    state = store.state(pipeline)
    st, updated = status(store, pipeline, sorted(specs), now_ms)
    cat = catalogue or {}
    base = {"pipeline": pipeline, "description": cat.get("description", ""), "source": cat.get("source"),
            "topics": cat.get("topics", []), "status": st, "updated_ms": updated, "outputs": sorted(specs),
            "recorded": catalogue is not None, "records": state.get("records", 0),
            "dead_letters": state.get("dead_letters_parse", 0) + state.get("dead_letters_late", 0)}
    if st == "not running":
        base["hint"] = f"no outputs yet: start it with `riverbed run {pipeline} --mode stream` (or batch)"
    found = panels(catalogue, specs)
    base["invalid_panels"] = declared(catalogue)[1]
    if not data:
        base["panels"] = [{**p.to_dict(), "generated": gen} for p, gen in found]
        return base
    chosen, base["select"] = _selection(store, found, specs, select)
    base["panels"] = [_panel(store, p, gen, specs, chosen, top, points) for p, gen in found]
    return base


def _selection(store: Any, found: list[tuple[Panel, bool]], specs: dict[str, OutputSpec],
               select: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """The value chosen for the pipeline's `select` column (the asked one, else the first), with
    the choices; an asked value that does not exist is refused (400)."""
    cols = [(p.select, p.output) for p, _ in found if p.select and p.output in specs]
    if not cols:
        if select is not None:
            raise InvalidArgument("select applies to pipelines whose panels offer a choice; none here does")
        return None, None
    column, output = cols[0]
    try:
        values = panel_data.choices(store, specs[output], column)
    except RiverbedError:
        values = []
    if select is not None and values and select not in values:
        raise InvalidArgument(f"no {column} {select!r} in {output}", hint=f"known: {', '.join(values)}")
    chosen = select if select is not None else (values[0] if values else None)
    return chosen, {"column": column, "choices": values, "value": chosen}


def _panel(store: Any, panel: Panel, gen: bool, specs: dict[str, OutputSpec], chosen: str | None,
           top: int | None, points: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {**panel.to_dict(), "generated": gen}
    spec = specs.get(panel.output)
    if spec is None:
        return {**out, "data": None, "empty": "no rows yet"}
    where = {panel.select: chosen} if panel.select and chosen is not None else None
    mspec = specs.get(panel.markers.output) if panel.markers else None
    try:
        out["data"] = panel_data.READERS[panel.kind](store, panel, spec, where, top=top, points=points,
                                                     marker_spec=mspec)
    except RiverbedError as e:
        out["data"], out["error"] = None, e.message
    return out
