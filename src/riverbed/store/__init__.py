"""The serving store: pipeline outputs as queryable tables (SQLite by default, PostgreSQL for
deployments: `--store postgresql://...` / $RIVERBED_STORE)."""

from __future__ import annotations

import os
from pathlib import Path

from riverbed.config import resolve_home, version_home
from riverbed.store.sqlite import OutputSpec, SqliteStore, StoreError

__all__ = ["OutputSpec", "SqliteStore", "StoreError", "open_store"]

ENV_STORE = "RIVERBED_STORE"


def open_store(
    url: str | None = None, *, home: str | os.PathLike[str] | None = None, version: str | None = None
) -> SqliteStore:
    """Open the serving store of a pipeline version (None / "v1": the home's own).

    `url` > $RIVERBED_STORE > the SQLite file serving.db in the version's home. A PostgreSQL URL
    (postgresql://user:pass@host:port/db) keeps each version in its own schema.
    """
    url = url or os.environ.get(ENV_STORE)
    if url and url.startswith(("postgresql://", "postgres://")):
        from riverbed.store.postgres import PostgresStore

        schema = "public" if version in (None, "", "v1") else f"riverbed_{version}"
        return PostgresStore(url, schema=schema)
    if url and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") - 1 :])
        first = version in (None, "", "v1")
        return SqliteStore(path if first else path.with_name(f"{path.stem}@{version}.db"))
    if url:
        raise StoreError(f"unsupported store URL {url!r}",
                         hint="use postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:////abs/path.db")
    return SqliteStore(version_home(resolve_home(home), version) / "serving.db")
