"""The serving store: pipeline outputs as queryable tables (SQLite by default)."""

from __future__ import annotations

import os
from pathlib import Path

from riverbed.config import resolve_home
from riverbed.store.sqlite import OutputSpec, SqliteStore, StoreError

__all__ = ["OutputSpec", "SqliteStore", "StoreError", "open_store"]


def open_store(url: str | None = None, *, home: str | os.PathLike[str] | None = None) -> SqliteStore:
    """Open the serving store: `url` > $RIVERBED_STORE > sqlite file <home>/serving.db."""
    url = url or os.environ.get("RIVERBED_STORE")
    if url and url.startswith("sqlite:///"):
        return SqliteStore(Path(url[len("sqlite:///") - 1 :]))
    if url:
        raise StoreError(f"unsupported store URL {url!r}", hint="use sqlite:////abs/path.db")
    return SqliteStore(resolve_home(home) / "serving.db")
