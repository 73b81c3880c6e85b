"""Settings resolved in one place, in one order: argument > environment variable > default.

    RIVERBED_HOME   where the embedded log, lake, checkpoints and serving store live (./.riverbed)
    RIVERBED_LOG    which log: "embedded" (default), "embedded:///path", or "kafka://host:port[,host:port]"
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".riverbed"
ENV_HOME = "RIVERBED_HOME"
ENV_LOG = "RIVERBED_LOG"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The riverbed home directory: `home` > $RIVERBED_HOME > ./.riverbed, made absolute."""
    raw = home if home is not None else os.environ.get(ENV_HOME) or DEFAULT_HOME
    return Path(raw).expanduser().resolve()


def resolve_log_url(url: str | None = None) -> str:
    """The log URL: `url` > $RIVERBED_LOG > "embedded"."""
    return url or os.environ.get(ENV_LOG) or "embedded"


def version_home(root: Path, version: str | None) -> Path:
    """Where a pipeline version keeps its checkpoints, lake and serving store. The first version
    ("v1") lives in the home itself; a reprocessed one (Kappa) in <home>/versions/<version>."""
    if version in (None, "", "v1"):
        return root
    return root / "versions" / version
