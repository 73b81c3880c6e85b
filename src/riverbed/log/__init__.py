"""The unified log: topics, partitions, offsets; embedded (default) and Kafka backends.

    >>> from riverbed.log import open_log, Record
    >>> with open_log(home="/tmp/rb") as log:                       # doctest: +SKIP
    ...     log.ensure_topic("logs", TopicConfig(partitions=4))
    ...     log.append("logs", [Record(b"hello", key=b"host-1")])
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlparse

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
from riverbed.urls import mask

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
    "mask_url",
    "murmur2",
    "open_log",
    "partition_for",
]


def open_log(url: str | None = None, *, home: str | os.PathLike[str] | None = None, **options) -> Log:
    """Open the log named by `url` (> $RIVERBED_LOG > "embedded").

    "embedded" keeps it under the riverbed home (`home` > $RIVERBED_HOME > ./.riverbed);
    "embedded:///abs/path" names the directory itself; "kafka://host:port[,host:port]" talks to a
    Kafka-protocol cluster. A URL's query sets backend options, so one string carries them to
    every process (Spark executors reopen the log from it): "kafka://k1:9092?replication_factor=3&
    timeout=20&security.protocol=SSL", "embedded:///dir?fsync=always". Extra `options` go to the
    backend too and win over the URL's.
    """
    url = resolve_log_url(url)
    base, _, query = url.partition("?")
    scheme = urlparse(base).scheme if "://" in base else base
    if scheme == "embedded":
        from riverbed.log.embedded import EmbeddedLog

        if query and "://" not in base:
            raise ConfigError(
                f"log URL {mask_url(url)!r}: options need the log's directory in the URL",
                hint="use embedded:///abs/path?fsync=always, so every process opens the same directory",
            )
        path = urlparse(base).path if "://" in base else ""
        root = resolve_home(path) if path else resolve_home(home) / "log"
        return EmbeddedLog(root, **{**url_options(url, {"fsync": "none"}), **options})
    if scheme == "kafka":
        from riverbed.log.kafka import OWN_OPTIONS, PLAIN_RDKAFKA_OPTIONS, KafkaLog

        servers = base.split("://", 1)[1].strip("/")
        if not servers:
            raise ConfigError(f"log URL {mask_url(url)!r} names no broker", hint="use kafka://HOST:PORT")
        own = {**OWN_OPTIONS, **dict.fromkeys(PLAIN_RDKAFKA_OPTIONS, "")}
        return KafkaLog(servers, **{**url_options(url, own, dotted=True), **options})
    raise ConfigError(
        f"unknown log URL {mask_url(url)!r}",
        hint="use 'embedded', 'embedded:///path/to/dir' or 'kafka://HOST:PORT' (--log or $RIVERBED_LOG)",
    )


def url_options(url: str, known: dict[str, object], *, dotted: bool = False) -> dict[str, object]:
    """The options in `url`'s query, typed like `known`'s defaults (int, float, str); `dotted` names
    (librdkafka settings) pass through as strings. A name given twice, without a value, or unknown
    raises ConfigError naming it."""
    query = url.partition("?")[2]
    out: dict[str, object] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        where = f"log URL {mask_url(url)!r}"
        if name in out:
            raise ConfigError(f"{where} sets option {name!r} twice", hint="give each option once")
        if not value:
            raise ConfigError(f"{where}: option {name!r} has no value", hint=f"write {name}=VALUE")
        if name in known:
            out[name] = _typed(name, value, known[name], where)
        elif dotted and "." in name:
            out[name] = value
        else:
            extra = " and dotted librdkafka settings (security.protocol=SSL, ...)" if dotted else ""
            raise ConfigError(
                f"{where}: unknown option {name!r}", hint=f"options here: {', '.join(sorted(known))}{extra}"
            )
    return out


def _typed(name: str, value: str, default: object, where: str) -> object:
    kind = type(default)
    if kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            raise ConfigError(
                f"{where}: option {name}={value!r} is not a {'whole ' if kind is int else ''}number",
                hint=f"e.g. {name}={default}",
            ) from None
    return value


def mask_url(url: str) -> str:
    """`url` with secrets hidden (passwords, and any option naming a secret), for messages and reprs."""
    hidden = re.sub(r"([?&][^=&]*(?:password|secret)[^=&]*=)[^&]*", r"\1***", url, flags=re.IGNORECASE)
    return mask(hidden)  # then user:password@ forms
