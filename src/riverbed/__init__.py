"""riverbed: one definition of the work, run on data in motion (Spark streaming over a unified
log) and at rest (Spark batch over the lake), served merged, reprocessed when code changes."""

from __future__ import annotations

from riverbed.app import App, load_pipeline
from riverbed.errors import RiverbedError
from riverbed.log import LogRecord, Record, TopicConfig, open_log
from riverbed.pipeline import Output, Pipeline

__version__ = "0.1.0"

__all__ = ["App", "LogRecord", "Output", "Pipeline", "Record", "RiverbedError", "TopicConfig", "__version__",
           "load_pipeline", "open_log"]
