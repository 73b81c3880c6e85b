"""The figures of one panel, read from its output in the serving store, one reader per panel kind.

Readers take the panel as data (`riverbed.pipeline.Panel`, from the catalogue) and the output's
store spec, never a pipeline's code. Every read is bounded (MAX_ROWS); columns a panel names are
checked against the output's columns by the store, so a panel recorded by an older version of a
pipeline fails with a clear message (shown in that panel only), never with SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from riverbed.errors import InvalidArgument
from riverbed.pipeline.panels import SPAN_MS, Panel
from riverbed.store import OutputSpec

MAX_ROWS = 20_000  # never read more than this from one output for one panel
MAX_SERIES = 30  # a time series panel sends at most this many series (the page shows the top N)
CHOICES_FROM = 2_000  # `select` choices are the values in the newest rows of the output
NUMERIC = ("INTEGER", "REAL")


def x_of(panel: Panel, spec: OutputSpec) -> str | None:
    """The panel's x column: its own, else the output's first time column."""
    return panel.x or (spec.time_columns[0] if spec.time_columns else None)


def y_of(panel: Panel, spec: OutputSpec) -> list[str]:
    """The panel's y columns: its own, else the output's numeric columns that are neither keys nor times."""
    if panel.y:
        return list(panel.y)
    return [c for c, t in spec.columns
            if t in NUMERIC and c not in spec.keys and c not in spec.time_columns]


def _rows(store: Any, spec: OutputSpec, x: str | None, where: dict[str, Any] | None,
          since: int | None = None, limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Rows newest first by x (x >= since when given), `where` equalities applied."""
    if x is None:
        return store.rows(spec.name, where=where, limit=limit)
    if since is not None and spec.time_columns and spec.time_columns[0] == x:
        return store.rows(spec.name, where=where, since=since, order_by=[f"-{x}"], limit=limit)
    rows = store.rows(spec.name, where=where, order_by=[f"-{x}"], limit=limit)
    return rows if since is None else [r for r in rows if r[x] is not None and r[x] >= since]


def _newest(store: Any, spec: OutputSpec, x: str, where: dict[str, Any] | None) -> Any:
    rows = store.rows(spec.name, where=where, order_by=[f"-{x}"], limit=1)
    return rows[0][x] if rows else None


def timeseries(store: Any, panel: Panel, spec: OutputSpec, where: dict[str, Any] | None,
               **_: Any) -> dict[str, Any]:
    """Each series' [[x, y], ...] (y summed per x), its total over the span, newest x; the series
    ranked by total (the page shows the top N of them)."""
    x, ys = x_of(panel, spec), y_of(panel, spec)
    if x is None:
        raise InvalidArgument(f"{spec.name} has no time column to draw over", hint="give the panel x=")
    newest = _newest(store, spec, x, where)
    if newest is None:
        return {"series": {}, "totals": {}, "order": [], "newest": None, "x": x, "y": ys}
    span = panel.span_ms or SPAN_MS
    rows = _rows(store, spec, x, where, since=newest - span)
    sums: dict[str, dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        for y in ys:
            name = (str(r[panel.key]) + (f" {y}" if len(ys) > 1 else "")) if panel.key else y
            sums[name][r[x]] += r[y] or 0
    totals = {k: sum(v.values()) for k, v in sums.items()}
    order = sorted(totals, key=lambda k: (-totals[k], k))[:MAX_SERIES]
    series = {k: [[t, v] for t, v in sorted(sums[k].items())] for k in order}
    return {"series": series, "totals": {k: totals[k] for k in order}, "order": order, "newest": newest,
            "x": x, "y": ys}


def top(store: Any, panel: Panel, spec: OutputSpec, where: dict[str, Any] | None, top: int | None = None,
        **_: Any) -> dict[str, Any]:
    """The `key` values with the largest sum of y in the newest window of x (or the newest span_ms)."""
    x, ys = x_of(panel, spec), y_of(panel, spec)
    if not ys:
        raise InvalidArgument(f"{spec.name} has no numeric column to rank by", hint="give the panel y=")
    newest = None if x is None else _newest(store, spec, x, where)
    if x is not None and newest is None:
        return {"top": [], "newest": None, "y": ys[0]}
    if x is None:
        rows = _rows(store, spec, None, where)
    elif panel.span_ms:
        rows = _rows(store, spec, x, where, since=newest - panel.span_ms)
    else:
        rows = store.rows(spec.name, where={**(where or {}), x: newest}, limit=MAX_ROWS)
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[str(r[panel.key])] += r[ys[0]] or 0
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[: top or panel.top]
    return {"top": [{"label": k, "value": v} for k, v in ranked], "newest": newest, "y": ys[0]}


def table(store: Any, panel: Panel, spec: OutputSpec, where: dict[str, Any] | None,
          **_: Any) -> dict[str, Any]:
    """The rows (newest first by x, else in `order`, else by keys), the first `limit`."""
    x = x_of(panel, spec)
    order = [panel.order] if panel.order else [f"-{x}"] if x else None
    rows = store.rows(spec.name, where=where, order_by=order, limit=panel.limit + 1)
    cols = list(panel.columns) or spec.column_names
    return {"columns": cols, "rows": [{c: r[c] for c in cols} for r in rows[: panel.limit]],
            "more": len(rows) > panel.limit, "keys": list(spec.keys),
            "time_columns": [c for c in cols if c in spec.time_columns]}


def line(store: Any, panel: Panel, spec: OutputSpec, where: dict[str, Any] | None, points: int | None = None,
         marker_spec: OutputSpec | None = None, **_: Any) -> dict[str, Any]:
    """The newest `points` rows' x and y columns, oldest first, and the markers' rows over them."""
    n = points or panel.points
    rows = list(reversed(_rows(store, spec, panel.x, where, limit=n)))
    out: dict[str, Any] = {"x": panel.x, "y": list(panel.y), "time": panel.x in spec.time_columns,
                           "rows": [{c: r[c] for c in (panel.x, *panel.y)} for r in rows], "markers": []}
    m = panel.markers
    if m is not None and marker_spec is not None:
        mwhere = {k: v for k, v in (where or {}).items() if k in marker_spec.column_names} or None
        found = reversed(_rows(store, marker_spec, m.x, mwhere, limit=n))
        down = {str(d).lower() for d in m.down}
        out["markers"] = [
            {"x": r[m.x], "y": r[m.y], "down": m.side is not None and str(r[m.side]).lower() in down,
             "label": " ".join(str(r[c]) for c in m.label)}
            for r in found
        ]
    return out


def stat(store: Any, panel: Panel, spec: OutputSpec, where: dict[str, Any] | None,
         **_: Any) -> dict[str, Any]:
    """The y columns of the newest row (by x; without x, the first row by keys)."""
    x = x_of(panel, spec)
    rows = _rows(store, spec, x, where, limit=1)
    if not rows:
        return {"values": {}, "at": None}
    return {"values": {c: rows[0][c] for c in panel.y}, "at": rows[0][x] if x else None}


READERS: dict[str, Callable[..., dict[str, Any]]] = {
    "timeseries": timeseries, "top": top, "table": table, "line": line, "stat": stat,
}


def choices(store: Any, spec: OutputSpec, column: str) -> list[str]:
    """The values of `column` in the output's newest rows (what a `select` panel offers)."""
    x = spec.time_columns[0] if spec.time_columns else None
    rows = _rows(store, spec, x, None, limit=CHOICES_FROM)
    return sorted({str(r[column]) for r in rows if r.get(column) is not None})
