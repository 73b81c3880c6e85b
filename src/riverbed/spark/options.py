"""Options and columns of the riverbed Spark source, parsed once on the driver and shipped to readers."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from riverbed.config import resolve_broker_wait, resolve_home, resolve_log_url
from riverbed.errors import InvalidArgument
from riverbed.spark import offsets as off

SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField(
            "headers",
            ArrayType(StructType([StructField("key", StringType()), StructField("value", BinaryType())])),
        ),
    ]
)

DEFAULT_MAX_PER_SPLIT = 500_000


def absolute_log_url(url: str | None = None, home: str | None = None) -> str:
    """The log URL with "embedded" made absolute, so every process opens the same directory."""
    resolved = resolve_log_url(url)
    if resolved in ("embedded", "embedded://"):
        return f"embedded://{resolve_home(home) / 'log'}"
    return resolved


@dataclass(frozen=True)
class Settings:
    """The source's options, parsed once on the driver and shipped (pickled) to every reader."""

    url: str
    topics: list[str]
    starting: str | dict
    ending: str | dict
    max_per_trigger: int | None
    fail_on_data_loss: bool
    min_partitions: int
    max_per_split: int
    min_per_split: int = 1
    admission: str | None = None  # a file the driver rewrites to steer admission (latency target)
    value_schema: str | None = None  # JSON of a StructType: values decoded into a `json` column
    broker_wait_s: float = 300.0  # how long an unavailable log is waited for (see riverbed.spark.waits)
    fault_hook: str | None = None  # a fault plan file, for tests (see riverbed.spark.faulthook)

    def schema(self) -> StructType:
        """The source's columns: Kafka's, plus `json` and `json_error` when values are decoded."""
        if not self.value_schema:
            return SCHEMA
        from riverbed.spark.jsonvalues import spark_type

        return StructType([*SCHEMA.fields, StructField("json", spark_type(self.value_schema)),
                           StructField("json_error", StringType())])

    @classmethod
    def parse(cls, options: dict[str, str], default_log: str | None, stream: bool) -> Settings:
        """Parse and check the user's options; raises InvalidArgument naming the bad one."""
        o = {k.lower(): v for k, v in options.items()}
        topics = off.parse_topics(o.get("topic") or o.get("subscribe"))
        url = absolute_log_url(o.get("log") or (None if o.get("home") else default_log), o.get("home"))
        starting = off.parse_spec(o.get("startingoffsets"), "startingOffsets", topics,
                                  "latest" if stream else "earliest")
        ending = off.parse_spec(o.get("endingoffsets"), "endingOffsets", topics, "latest")
        if stream and "endingoffsets" in o:
            raise InvalidArgument("endingOffsets applies to spark.read only",
                                  hint="a stream runs until stopped; use trigger(availableNow=True)")
        return cls(
            url=url,
            topics=topics,
            starting=starting,
            ending=ending,
            max_per_trigger=_positive(o, "maxrecordspertrigger", None),
            fail_on_data_loss=_flag(o, "failondataloss", True),
            min_partitions=_positive(o, "minpartitions", 1) or 1,
            max_per_split=_positive(o, "maxrecordsperpartition", DEFAULT_MAX_PER_SPLIT)
            or DEFAULT_MAX_PER_SPLIT,
            min_per_split=_positive(o, "minrecordsperpartition", 1) or 1,
            admission=o.get("admissioncontrol") or None,
            value_schema=_value_schema(o.get("valueschema")),
            broker_wait_s=resolve_broker_wait(o.get("brokerwaitms")),
            fault_hook=o.get("faulthook") or None,
        )


def _value_schema(raw: str | None) -> str | None:
    """Check the valueSchema option: a StructType in its JSON form (`StructType.json()`)."""
    if not raw:
        return None
    import json

    try:
        StructType.fromJson(json.loads(raw))
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidArgument(
            f"option valueSchema is not a Spark StructType in JSON form: {e}",
            hint="pass schema.json() of a StructType, e.g. StructType.fromDDL('a string, b long').json()",
        ) from None
    return raw


def _positive(o: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in o:
        return default
    try:
        value = int(o[name])
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidArgument(f"option {name} must be a whole number >= 1, got {o[name]!r}")
    return value


def _flag(o: dict[str, str], name: str, default: bool) -> bool:
    raw = o.get(name, str(default)).strip().lower()
    if raw not in ("true", "false"):
        raise InvalidArgument(f"option {name} must be true or false, got {o[name]!r}")
    return raw == "true"
