"""Kappa reprocessing: run a changed pipeline as a new version from the start of the retained log,
watch it catch up, switch the serving alias to it atomically, roll back, drop old output.

A version runs apart from the others (its own checkpoints, lake and serving store under
<home>/versions/<version>; "v1" is the home itself) and reads the same log. Which version answers
queries is one row in the home's serving store, changed in one transaction, so a query reads
either the old version or the new one, never a mix.

    >>> reprocess("logwatch", "v2", options={"level_window": "30 seconds"})  # doctest: +SKIP
    >>> switch("logwatch", "v2"); rollback("logwatch")                      # doctest: +SKIP
"""

from __future__ import annotations

from riverbed.kappa.versions import (
    KappaError,
    VersionInfo,
    drop,
    reprocess,
    rollback,
    serving_store,
    serving_version,
    switch,
    versions,
)

__all__ = [
    "KappaError",
    "VersionInfo",
    "drop",
    "reprocess",
    "rollback",
    "serving_store",
    "serving_version",
    "switch",
    "versions",
]
