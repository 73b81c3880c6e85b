"""logwatch: server logs -> parsed lines and message templates -> counts, top errors and alerts.

The parse is one definition for plain Python and for Spark (`df.mapInArrow(parse_batches, PARSED_DDL)`,
in streaming and in batch mode alike): `parse_line`
(formats.py, timestamps.py, levels.py, detect.py, parse.py), `mask`
(message -> loghub-style template, templates.py) and `parse_batches` (Arrow batches, arrow.py).
"""

from riverbed.apps.logwatch.arrow import PARSED_DDL, PARSED_SCHEMA, batches_parser, parse_batch, parse_batches
from riverbed.apps.logwatch.detect import Detector
from riverbed.apps.logwatch.parse import (
    FORMATS,
    ParsedLine,
    level_from_content,
    normalize_level,
    parse_line,
    parse_record,
)
from riverbed.apps.logwatch.templates import grouping_accuracy, mask

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
