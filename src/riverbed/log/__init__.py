"""The unified log: topics, partitions, offsets; embedded (default) and Kafka backends.

    >>> from riverbed.log import open_log, Record
    >>> with open_log(home="/tmp/rb") as log:                       # doctest: +SKIP
    ...     log.ensure_topic("logs", TopicConfig(partitions=4))
    ...     log.append("logs", [Record(b"hello", key=b"host-1")])
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from riverbed.config import resolve_home, resolve_log_url
from riverbed.errors import ConfigError
from riverbed.log.api import (
    AppendResult,
    GroupLag,
    Log,
    LogRecord,
    PartitionInfo,
    Record,
    TopicConfig,
    TopicInfo,
    arrow_schema,
)
from riverbed.log.consumer import Consumer
from riverbed.log.partitioner import murmur2, partition_for

__all__ = [
    "AppendResult",
    "Consumer",
    "GroupLag",
    "Log",
    "LogRecord",
    "PartitionInfo",
    "Record",
    "TopicConfig",
    "TopicInfo",
    "arrow_schema",
    "murmur2",
    "open_log",
    "partition_for",
]


def open_log(url: str | None = None, *, home: str | os.PathLike[str] | None = None, **options) -> Log:
    """Open the log named by `url` (> $RIVERBED_LOG > "embedded").

    "embedded" keeps it under the riverbed home (`home` > $RIVERBED_HOME > ./.riverbed);
    "embedded:///abs/path" names the directory itself; "kafka://host:port[,host:port]" talks to a
    Kafka-protocol cluster. Extra `options` go to the backend.
    """
    url = resolve_log_url(url)
    scheme = urlparse(url).scheme if "://" in url else url
    if scheme == "embedded":
        from riverbed.log.embedded import EmbeddedLog

        path = urlparse(url).path if "://" in url else ""
        root = resolve_home(path) if path else resolve_home(home) / "log"
        return EmbeddedLog(root, **options)
    if scheme == "kafka":
        from riverbed.log.kafka import KafkaLog

        servers = url.split("://", 1)[1].strip("/")
        if not servers:
            raise ConfigError(f"log URL {url!r} names no broker", hint="use kafka://HOST:PORT")
        return KafkaLog(servers, **options)
    raise ConfigError(
        f"unknown log URL {url!r}",
        hint="use 'embedded', 'embedded:///path/to/dir' or 'kafka://HOST:PORT' (--log or $RIVERBED_LOG)",
    )
