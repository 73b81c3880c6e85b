"""Pipelines by name, so the CLI can run `riverbed run logwatch`. Apps register lazily."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from riverbed.errors import InvalidArgument
from riverbed.pipeline.definition import Pipeline

# name -> "module:factory"; the factory builds the Pipeline (imported only when asked for)
_BUILTIN: dict[str, str] = {
    "logwatch": "riverbed.apps.logwatch.pipeline:build",
    "bitcoin": "riverbed.apps.bitcoin.pipeline:build",
    "buzz": "riverbed.apps.buzz.pipeline:build",
    "ysb": "riverbed.apps.ysb.pipeline:build",
}
_REGISTERED: dict[str, Callable[..., Pipeline]] = {}


def register(name: str, factory: Callable[..., Pipeline]) -> None:
    """Make `riverbed run NAME` build its pipeline with `factory(**options)`."""
    _REGISTERED[name] = factory


def pipeline_names() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED})


def get_pipeline(name: str, *, context: dict[str, object] | None = None, **options: object) -> Pipeline:
    """Build the named pipeline; `options` go to its factory (e.g. topic="logs"). `context` entries
    (e.g. model_home, the riverbed home of the run) go to the factory only if it takes them."""
    if name in _REGISTERED:
        factory = _REGISTERED[name]
    elif name in _BUILTIN:
        module, func = _BUILTIN[name].split(":")
        factory = getattr(importlib.import_module(module), func)
    else:
        raise InvalidArgument(f"no pipeline named {name!r}", hint=f"known: {', '.join(pipeline_names())}")
    params = inspect.signature(factory).parameters
    extra = {k: v for k, v in (context or {}).items() if k in params and k not in options}
    return factory(**options, **extra)
