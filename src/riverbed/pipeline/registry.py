"""Pipelines by reference, for the code that runs them (the CLI, Kappa, the runner).

A thin layer over `riverbed.app`: `get_pipeline` takes any app reference (`app.py[:ATTR]`,
`package.module[:ATTR]`, or a bare name of a registered, configured or installed app).
"""

from __future__ import annotations

from collections.abc import Callable

from riverbed.pipeline.definition import Pipeline


def register(name: str, factory: Callable[..., Pipeline] | Pipeline) -> None:
    """Make `riverbed run NAME` (in this process) build its pipeline with `factory(**options)`."""
    from riverbed.app import register as register_app

    register_app(name, factory)


def pipeline_names() -> list[str]:
    """The bare names known here (registered, configured, installed)."""
    from riverbed.app import known_apps

    return sorted(known_apps())


def get_pipeline(ref: str | Pipeline, *, context: dict[str, object] | None = None,
                 **options: object) -> Pipeline:
    """Build the pipeline `ref` names; `options` go to its factory (e.g. topic="logs"). `context`
    entries (e.g. model_home, the riverbed home of the run) go to the factory only if it takes them."""
    from riverbed.app import load_pipeline

    return load_pipeline(ref, context=context, **options)
