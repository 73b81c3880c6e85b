"""Each app's panel: the figures its charts draw, read from the app's outputs in the serving store.

An app whose outputs are not in the store yet is reported as "not running" (with how to start it),
never as an error; a part of a panel that cannot be read (say an output whose columns changed) is
reported in that part's `error`, and the rest of the panel still shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from riverbed.errors import RiverbedError
from riverbed.store import SqliteStore

APPS: dict[str, dict[str, Any]] = {
    "logwatch": {"pipeline": "logwatch",
                 "outputs": ["level_counts", "component_counts", "top_errors", "component_errors", "alerts"],
                 "start": "riverbed demo  (or: riverbed run logwatch --mode stream)"},
    "bitcoin": {"pipeline": "bitcoin",
                "outputs": ["btc_ohlc_1m", "btc_ohlc_5m", "btc_indicators", "btc_trades", "btc_equity",
                            "btc_summary"],
                "start": "riverbed run bitcoin --mode stream"},
    "buzz": {"pipeline": "buzz",
             "outputs": ["buzz_terms", "buzz_hashtags", "buzz_repos", "buzz_event_types", "buzz_clusters"],
             "start": "riverbed run buzz --mode stream"},
}
SPAN_MS = 5 * 60_000  # charts over time show the newest 5 minutes of event time
MAX_ROWS = 20_000  # never read more than this from one output for one panel


def panel(store: SqliteStore, app: str, now_ms: int, **options: Any) -> dict[str, Any]:
    """The app's panel, or {"status": "not running"} when none of its outputs exist yet."""
    spec = APPS[app]
    present = set(store.outputs()) & set(spec["outputs"])
    base = {"app": app, "pipeline": spec["pipeline"], "outputs": sorted(present)}
    if not present:
        return {**base, "status": "not running", "hint": f"start it with `{spec['start']}`"}
    last = store.metrics(spec["pipeline"], limit=1)
    updated = last[-1]["at_ms"] if last else None
    status = "running" if updated and now_ms - updated <= 30_000 else "idle"
    state = store.state(spec["pipeline"])
    body = BUILDERS[app](store, present, **options)
    return {**base, "status": status, "updated_ms": updated, "records": state.get("records", 0),
            "dead_letters": state.get("dead_letters_parse", 0) + state.get("dead_letters_late", 0), **body}


def _part(present: set[str], name: str, read: Callable[[], Any], empty: Any) -> Any:
    """`read()` if output `name` exists, else `empty`; a part that cannot be read says why instead
    of failing the whole panel."""
    if name not in present:
        return empty
    try:
        return read()
    except RiverbedError as e:
        return {"error": e.message}


def _newest(store: SqliteStore, name: str, col: str = "window_start", **where: Any) -> int | None:
    rows = store.rows(name, where=where or None, order_by=[f"-{col}"], limit=1)
    return rows[0][col] if rows else None


def _series(rows: list[dict[str, Any]], key: str, x: str = "window_start", y: str = "count") -> dict:
    out: dict[str, list[list[Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r[x]):
        out[str(r[key])].append([r[x], r[y]])
    return dict(out)


def _top(rows: list[dict[str, Any]], key: str, n: int) -> list[dict[str, Any]]:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[str(r[key])] += r["count"] or 0
    return [{"label": k, "count": v} for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:n]]


def logwatch(store: SqliteStore, present: set[str], top: int = 10) -> dict[str, Any]:
    """Counts per level over time, the top error templates, and the alerts."""

    def levels() -> dict[str, Any]:
        newest = _newest(store, "level_counts")
        if newest is None:
            return {"series": {}, "totals": {}}
        rows = store.rows("level_counts", since=newest - SPAN_MS, limit=MAX_ROWS)
        totals: dict[str, int] = defaultdict(int)
        for r in rows:
            totals[r["level"]] += r["count"]
        return {"series": _series(rows, "level"), "totals": dict(totals), "newest_window": newest}

    def errors() -> dict[str, Any]:
        newest = _newest(store, "top_errors")
        rows = [] if newest is None else store.rows("top_errors", since=newest - SPAN_MS, limit=MAX_ROWS)
        return {"top": _top(rows, "template", top), "newest_window": newest}

    def components() -> dict[str, Any]:
        newest = _newest(store, "component_errors")
        since = None if newest is None else newest - SPAN_MS
        rows = [] if since is None else store.rows("component_errors", since=since, limit=MAX_ROWS)
        return {"top": _top(rows, "component", top)}

    def alerts() -> dict[str, Any]:
        rows = store.rows("alerts", order_by=["-window_start"], limit=50)
        return {"rows": rows, "count": len(store.rows("alerts", limit=MAX_ROWS))}

    return {"levels": _part(present, "level_counts", levels, {}),
            "top_errors": _part(present, "top_errors", errors, {}),
            "component_errors": _part(present, "component_errors", components, {}),
            "alerts": _part(present, "alerts", alerts, {"rows": [], "count": 0})}


def bitcoin(store: SqliteStore, present: set[str], product: str | None = None,
            points: int = 300) -> dict[str, Any]:
    """Price with moving averages, the simulated trades on it, the equity curve and the summary."""
    products: list[str] = []
    if "btc_indicators" in present:
        try:
            products = sorted({r["product"] for r in store.rows("btc_indicators", order_by=["-window_start"],
                                                                  limit=2000)})
        except RiverbedError:
            products = []
    if product is not None and products and product not in products:
        from riverbed.errors import InvalidArgument

        raise InvalidArgument(f"no product {product!r} in btc_indicators",
                              hint=f"known: {', '.join(products)}")
    chosen = product or (products[0] if products else None)
    where = {"product": chosen} if chosen else None

    def newest_first(name: str, col: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: list(reversed(store.rows(name, where=where, order_by=[f"-{col}"], limit=points)))

    return {
        "products": products, "product": chosen,
        "indicators": _part(present, "btc_indicators", newest_first("btc_indicators", "window_start"), []),
        "trades": _part(present, "btc_trades", newest_first("btc_trades", "time"), []),
        "equity": _part(present, "btc_equity", newest_first("btc_equity", "time"), []),
        "summary": _part(present, "btc_summary", lambda: store.rows("btc_summary", where=where, limit=5), []),
    }


def buzz(store: SqliteStore, present: set[str], top: int = 10) -> dict[str, Any]:
    """Trending terms, hashtags, repositories and event types in the newest window; cluster sizes."""

    def trending(name: str, key: str) -> Callable[[], dict[str, Any]]:
        def read() -> dict[str, Any]:
            newest = _newest(store, name)
            if newest is None:
                return {"top": [], "window_start": None}
            rows = store.rows(name, where={"window_start": newest}, limit=MAX_ROWS)
            return {"top": _top(rows, key, top), "window_start": newest}
        return read

    def clusters() -> dict[str, Any]:
        newest = _newest(store, "buzz_clusters")
        rows = [] if newest is None else store.rows("buzz_clusters", since=newest - SPAN_MS, limit=MAX_ROWS)
        return {"series": _series(rows, "cluster"),
                "model_versions": sorted({str(r["model_version"]) for r in rows})}

    return {
        "terms": _part(present, "buzz_terms", trending("buzz_terms", "term"), {}),
        "hashtags": _part(present, "buzz_hashtags", trending("buzz_hashtags", "hashtag"), {}),
        "repos": _part(present, "buzz_repos", trending("buzz_repos", "repo"), {}),
        "event_types": _part(present, "buzz_event_types", trending("buzz_event_types", "type"), {}),
        "clusters": _part(present, "buzz_clusters", clusters, {}),
    }


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {"logwatch": logwatch, "bitcoin": bitcoin, "buzz": buzz}
