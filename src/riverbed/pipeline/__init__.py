"""Pipelines: one definition of the work, run as a stream over the log or as a batch at rest."""

from __future__ import annotations

from riverbed.pipeline.definition import Output, Pipeline
from riverbed.pipeline.panels import PANEL_KINDS, Markers, Panel
from riverbed.pipeline.registry import get_pipeline, pipeline_names, register

__all__ = [
    "PANEL_KINDS", "Markers", "Output", "Panel", "Pipeline", "get_pipeline", "pipeline_names", "register",
]
