"""Read outputs as `riverbed query` answers them: from the pipeline version serving queries (Kappa)
with batch and speed views merged (Lambda). Falls back to the home's store as it is when those
layers are not installed, so the dashboard works at every stage of the platform."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from riverbed.config import resolve_home
from riverbed.store import SqliteStore, open_store


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.startswith(e.name):
            return None
        raise


class ServingStore:
    """A serving store whose `rows` go through the serving layer; everything else as the store's."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self._layer = _optional("riverbed.layers.serving")

    def rows(self, name: str, **kwargs: Any) -> list[dict[str, Any]]:
        if self._layer is not None and hasattr(self._layer, "query"):
            return self._layer.query(self.store, name, **kwargs)
        return self.store.rows(name, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Homes:
    """Which directory (version home) and store serve each pipeline, with stores opened once."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = resolve_home(root)
        self._stores: dict[Path, ServingStore] = {}

    def home_for(self, pipeline: str) -> Path:
        """The home of the version serving `pipeline`: the root itself unless Kappa switched it."""
        kappa = _optional("riverbed.kappa")
        if kappa is None or not hasattr(kappa, "serving_version"):
            return self.root
        from riverbed.config import version_home

        if not (self.root / "serving.db").exists():
            return self.root
        return version_home(self.root, kappa.serving_version(pipeline, home=self.root))

    def store(self, home: Path | None = None) -> ServingStore:
        home = home or self.root
        if home not in self._stores:
            self._stores[home] = ServingStore(open_store(home=home))
        return self._stores[home]

    def store_for(self, pipeline: str) -> ServingStore:
        return self.store(self.home_for(pipeline))
