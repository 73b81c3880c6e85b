"""Pipeline versions (Kappa) for the dashboard: the same calls as the CLI's, or "not available yet".

The dashboard never re-implements a switch or a rollback: it calls `riverbed.kappa.switch` and
`riverbed.kappa.rollback`, as `riverbed reprocess` does. Without `riverbed.kappa` installed the
endpoints answer 503 with that reason.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

UNAVAILABLE = "versions not available yet (riverbed.kappa is not installed)"
NO_VERSIONS = "no versions yet"


class VersionsUnavailable(Exception):
    """riverbed.kappa cannot be imported."""


class NoVersions(Exception):
    """riverbed.kappa cannot list the pipeline's versions (e.g. a user's pipeline it cannot build)."""


def kappa() -> ModuleType:
    """The riverbed.kappa module, or VersionsUnavailable."""
    try:
        return importlib.import_module("riverbed.kappa")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("riverbed.kappa"):
            raise VersionsUnavailable(UNAVAILABLE) from None
        raise


def available() -> bool:
    try:
        kappa()
    except VersionsUnavailable:
        return False
    return True


def _as_dict(v: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.asdict(v)
    if hasattr(v, "_asdict"):
        return dict(v._asdict())
    return {k: getattr(v, k) for k in ("version", "status", "lag", "created_ms") if hasattr(v, k)}


def versions(pipeline: str, home: Path, log_url: str | None) -> list[dict[str, Any]]:
    """The pipeline's versions: version, status (serving, catching-up, ready, previous), lag, created_ms;
    NoVersions (with kappa's reason) when kappa cannot list them."""
    from riverbed.errors import RiverbedError

    k = kappa()
    try:
        return [_as_dict(v) for v in k.versions(pipeline, home=home, log=log_url)]
    except RiverbedError as e:
        raise NoVersions(e.message) from None


def switch(pipeline: str, version: str, force: bool, home: Path, log_url: str | None) -> dict[str, Any]:
    """Make `version` serve `pipeline` (refused with a RiverbedError when it has not caught up)."""
    k = kappa()
    if log_url is not None:
        k.switch(pipeline, version, force=force, home=home, log=log_url)
    else:
        k.switch(pipeline, version, force=force, home=home)
    return {"pipeline": pipeline, "serving": version}


def rollback(pipeline: str, home: Path) -> dict[str, Any]:
    """Serve the previous version again; returns which one."""
    version = kappa().rollback(pipeline, home=home)
    return {"pipeline": pipeline, "serving": version}
