"""Which apps a bare name can mean: registered in this process, configured in the working
directory (pyproject.toml `[tool.riverbed] apps`, or riverbed.toml `apps`), or installed (entry
points in group `riverbed.apps`, which is how riverbed's own apps are found too).

    # pyproject.toml                          # riverbed.toml
    [tool.riverbed.apps]                      [apps]
    totals = "app.py"                         totals = "app.py:pipeline"
    shop = "shop.flows:app"

An earlier source wins on a clash: registered, then configured, then installed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from riverbed.errors import ConfigError

GROUP = "riverbed.apps"
_REGISTERED: dict[str, Any] = {}


@dataclass(frozen=True)
class KnownApp:
    """A name and the reference it stands for (`target`, relative paths from `base`)."""

    name: str
    target: str
    origin: str
    base: Path = Path(".")
    obj: Any = None  # registered in this process: the object itself


def register(name: str, obj: Callable[..., Any] | Any) -> None:
    """Make the bare name `name` mean `obj` (a Pipeline, a factory of one, or an App) in this process."""
    _REGISTERED[name] = obj


def known_apps(cwd: Path | None = None) -> dict[str, KnownApp]:
    """Every name a bare reference can use, with what it stands for and where that was said."""
    found: dict[str, KnownApp] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = getattr(ep.dist, "name", None) or "an installed package"
        found[ep.name] = KnownApp(ep.name, ep.value, f"installed: {dist}, {ep.value}")
    found.update(_configured(cwd or Path.cwd()))
    for name, obj in _REGISTERED.items():
        found[name] = KnownApp(name, f"<registered {name}>", "registered in this process", obj=obj)
    return found


def _configured(cwd: Path) -> dict[str, KnownApp]:
    out: dict[str, KnownApp] = {}
    for file, path in (("pyproject.toml", ("tool", "riverbed", "apps")), ("riverbed.toml", ("apps",))):
        f = cwd / file
        if not f.is_file():
            continue
        try:
            doc: Any = tomllib.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read {f}: {e}",
                              hint="fix the TOML, or remove its riverbed table") from None
        for key in path:
            doc = doc.get(key, {}) if isinstance(doc, dict) else {}
        if not isinstance(doc, dict):
            raise ConfigError(f"{f}: {'.'.join(path)} must be a table of name = \"reference\"")
        for name, target in doc.items():
            if not isinstance(target, str):
                raise ConfigError(f"{f}: {'.'.join(path)}.{name} must be a string like \"app.py:pipeline\"")
            out[name] = KnownApp(name, target, f"configured: {f}", base=cwd)
    return out
