"""riverbed: one definition of the work, run on data in motion (Spark streaming over a unified
log) and at rest (Spark batch over the lake), served merged, reprocessed when code changes."""

from __future__ import annotations

import importlib
from typing import Any

from riverbed.errors import RiverbedError
from riverbed.log import LogRecord, Record, TopicConfig, open_log

__version__ = "0.1.0"

#: what an app is written with, imported on first use: `import riverbed` (which every riverbed
#: module runs, the log and the connectors too) stays free of the pipeline layer
_LAZY = {"App": "riverbed.app", "load_pipeline": "riverbed.app", "Output": "riverbed.pipeline",
         "Pipeline": "riverbed.pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'riverbed' has no attribute {name!r}")


__all__ = ["App", "LogRecord", "Output", "Pipeline", "Record", "RiverbedError", "TopicConfig", "__version__",
           "load_pipeline", "open_log"]
