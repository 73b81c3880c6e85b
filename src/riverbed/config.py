"""Settings resolved in one place, in one order: argument > environment variable > default.

    RIVERBED_HOME   where the embedded log, lake, checkpoints and serving store live (./.riverbed)
    RIVERBED_LOG    which log: "embedded" (default), "embedded:///path", or "kafka://host:port[,host:port]"
    RIVERBED_BROKER_WAIT  seconds a stream waits for an unavailable log before failing (300)
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".riverbed"
ENV_HOME = "RIVERBED_HOME"
ENV_LOG = "RIVERBED_LOG"
ENV_BROKER_WAIT = "RIVERBED_BROKER_WAIT"
DEFAULT_BROKER_WAIT_S = 300.0


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


def resolve_broker_wait(wait_ms: str | None = None) -> float:
    """Seconds to wait for an unavailable log: `wait_ms` (option brokerWaitMs) > $RIVERBED_BROKER_WAIT
    (seconds) > 300. A value that is not a number >= 0 raises ConfigError naming where it came from."""
    from riverbed.errors import ConfigError

    env = os.environ.get(ENV_BROKER_WAIT)
    raw, scale, where = (wait_ms, 1000.0, "option brokerWaitMs") if wait_ms not in (None, "") else (
        env, 1.0, f"${ENV_BROKER_WAIT}")
    if raw in (None, ""):
        return DEFAULT_BROKER_WAIT_S
    try:
        value = float(raw) / scale
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        raise ConfigError(f"{where} must be a number >= 0, got {raw!r}",
                          hint="e.g. brokerWaitMs=300000 or RIVERBED_BROKER_WAIT=300")
    return value
