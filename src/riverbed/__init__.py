"""riverbed: one definition of the work, run on data in motion (Spark streaming over a unified
log) and at rest (Spark batch over the lake), served merged, reprocessed when code changes."""

from __future__ import annotations

from riverbed.errors import RiverbedError
from riverbed.log import LogRecord, Record, TopicConfig, open_log

__version__ = "0.1.0"

__all__ = ["LogRecord", "Record", "RiverbedError", "TopicConfig", "__version__", "open_log"]
