"""logwatch: server logs -> parsed lines and message templates -> counts, top errors and alerts.

The parse is one definition for plain Python and for Spark (`df.mapInArrow(parse_batches, PARSED_DDL)`,
in streaming and in batch mode alike): `parse_line`
(formats.py, timestamps.py, levels.py, detect.py, parse.py), `mask`
(message -> loghub-style template, templates.py) and `parse_batches` (Arrow batches, arrow.py).
"""

import importlib
from typing import Any

#: name -> submodule; imported on first use, so `riverbed --help` (which mounts logwatch's commands)
#: does not pay for pyarrow
_LAZY = {
    **dict.fromkeys(["PARSED_DDL", "PARSED_SCHEMA", "batches_parser", "parse_batch", "parse_batches"],
                    "arrow"),
    **dict.fromkeys(["FORMATS", "ParsedLine", "level_from_content", "normalize_level", "parse_line",
                     "parse_record"], "parse"),
    "Detector": "detect",
    **dict.fromkeys(["grouping_accuracy", "mask"], "templates"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "PARSED_DDL",
    "PARSED_SCHEMA",
    "Detector",
    "ParsedLine",
    "batches_parser",
    "grouping_accuracy",
    "level_from_content",
    "mask",
    "normalize_level",
    "parse_batch",
    "parse_batches",
    "parse_line",
    "parse_record",
]
