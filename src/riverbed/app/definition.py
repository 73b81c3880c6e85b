"""What an app is: a name, one or more pipelines (or factories of them), and a description."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

from riverbed.errors import InvalidArgument
from riverbed.pipeline.definition import Pipeline

#: a pipeline, or a factory building one from keyword options (e.g. topic="logs")
PipelineLike = Union[Pipeline, Callable[..., Pipeline]]  # noqa: UP007 - a runtime alias


@dataclass(frozen=True)
class App:
    """Several pipelines under one name, e.g. `App("shop", pipelines=[orders, refunds])`.

    A module needs an App only to group pipelines or describe them; a module holding a single
    `Pipeline` (or a factory of one) is an app by itself. Each entry of `pipelines` is a `Pipeline`
    or a zero-required-argument factory; a factory's keyword arguments are the options
    `riverbed run --topic T` and Kappa's reprocess pass (`topic`, window sizes, ...).
    """

    name: str
    pipelines: Sequence[PipelineLike]
    description: str = ""

    def __post_init__(self) -> None:
        if not self.pipelines:
            raise InvalidArgument(f"app {self.name!r} has no pipelines", hint="App(name, pipelines=[...])")
