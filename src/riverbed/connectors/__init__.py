"""Connectors: sources that bring outside data into the unified log.

A `Source` yields lines or records; an `Ingestor` appends them to a topic in batches, paced,
retried, with rejects kept in `<topic>.dlq` (see `riverbed.dlq`).

    >>> from riverbed.connectors import Ingestor, SocketTextSource
    >>> src = SocketTextSource(port=9999)                            # doctest: +SKIP
    >>> Ingestor(log, "lines", decode=utf8_text).run(src)           # doctest: +SKIP
"""

from riverbed.connectors.base import (
    IngestStats,
    Item,
    Rejected,
    Source,
    TokenBucket,
    chain,
    key_from_regex,
    utf8_text,
)
from riverbed.connectors.ingest import Ingestor
from riverbed.connectors.replay import ReplaySource, json_time, parse_time
from riverbed.connectors.socket_text import SocketTextSource
from riverbed.connectors.synthetic import FORMATS, LogGenerator, LogLine, SyntheticLogs
from riverbed.connectors.tail import TailSource

__all__ = [
    "FORMATS",
    "IngestStats",
    "Ingestor",
    "Item",
    "LogGenerator",
    "LogLine",
    "Rejected",
    "ReplaySource",
    "SocketTextSource",
    "Source",
    "SyntheticLogs",
    "TailSource",
    "TokenBucket",
    "chain",
    "json_time",
    "key_from_regex",
    "parse_time",
    "utf8_text",
]
