"""What a pipeline is: input topics, a parse step, one transform, and where each output goes.

The transform is written once, over a DataFrame of parsed rows, and returns *partial* results
per output (e.g. counts per window and key). In batch mode it runs once over everything; in
stream mode it runs per micro-batch and the partials are merged into the serving store with each
measure's merge rule (sum for counts), so both modes give the same answer by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from riverbed.errors import InvalidArgument
from riverbed.pipeline.panels import Panel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from riverbed.store import SqliteStore

Sink = Literal["store", "topic", "console"]


@dataclass(frozen=True)
class Output:
    """One named output of a pipeline and its sink.

    For the store sink, `keys` identify a row and `measures` say how partial values merge
    ("sum", "min", "max", "replace"); timestamp columns are stored as epoch ms and shown as ISO 8601.
    For the topic sink, each row is written as a JSON record to `topic`.
    `stamp` names an extra store column set to the wall-clock ms at which the row was last
    committed to the store (e.g. YSB's update time; the transform does not produce it).
    """

    name: str
    sink: Sink = "store"
    keys: Sequence[str] = ()
    measures: Mapping[str, str] = field(default_factory=dict)
    topic: str | None = None
    stamp: str | None = None

    def __post_init__(self) -> None:
        if self.sink == "store" and not self.keys:
            raise InvalidArgument(f"output {self.name}: a store output needs key columns")
        if self.sink == "topic" and not self.topic:
            raise InvalidArgument(f"output {self.name}: a topic output needs topic=...")


@dataclass(frozen=True)
class Pipeline:
    """A named, reusable definition of the work, run by `riverbed run NAME --mode stream|batch`.

    - `parse(df)`: from the log's columns (key, value, topic, partition, offset, timestamp, headers)
      to typed columns, keeping `topic, partition, offset`, with an `error` column (null when the
      record parsed; the reason when not) and a `raw` column with the original text; the event-time
      column is `event_time`. Keeping the log's `timestamp` too (all the shipped apps do) lets the
      stream measure the records' ages in the log on the parsed rows, the cheaper place.
    - `transform(df)`: from parsed, good, on-time rows to {output name: DataFrame of partial rows}.
    - `lateness_ms`: how far behind the newest event time seen a record may be before the stream
      treats it as late (dead-lettered, not counted); the batch layer still sees it in the lake.
    - `derived_sql`: fixed SQL run in the store transaction after each merge (outputs computed from
      other outputs, e.g. alerts from counts and a stored baseline).
    - `foreach_batch(df, batch_id)`: optional DStream-style hook called with each parsed micro-batch.
    - `value_schema`: for JSON values, a DDL of the fields to decode (e.g. "ad_id string, t long");
      the log source then decodes them with Arrow's JSON reader (several times faster than
      `from_json`) into a `json` struct column beside `json_error` (null, or why the value did not
      decode), which `parse` reads instead of calling `from_json`.
    - `keep_lake`: the stream writes every parsed record to the lake (the master dataset the batch
      layer, Kappa's checks and training read). False makes a speed-layer-only pipeline: no lake
      write per micro-batch, and no batch layer over it.
    - `panels`: what the dashboard draws from the outputs (`riverbed.pipeline.Panel`); an output
      without one gets a generated panel (a time series if it has an event-time column, else a table).
    """

    name: str
    topics: Sequence[str]
    parse: Callable[[DataFrame], DataFrame]
    transform: Callable[[DataFrame], Mapping[str, DataFrame]]
    outputs: Sequence[Output]
    event_time: str | None = None  # None: the parse step's (riverbed.parse), else "time"
    lateness_ms: int = 60_000
    derived_sql: Sequence[str] = ()
    setup_store: Callable[[SqliteStore], None] | None = None
    foreach_batch: Callable[[DataFrame, int], None] | None = None
    description: str = ""
    value_schema: str | None = None
    keep_lake: bool = True
    panels: Sequence[Panel] = ()

    def __post_init__(self) -> None:
        if self.event_time is None:  # a declared parse (riverbed.parse) knows its event-time column
            object.__setattr__(self, "event_time", getattr(self.parse, "event_time", None) or "time")

    def source_options(self, spark: Any) -> dict[str, str]:
        """Options of the log source this pipeline reads with (the decoded-values schema)."""
        if not self.value_schema:
            return {}
        try:
            schema = spark.createDataFrame([], self.value_schema).schema
        except Exception as e:  # Spark's parse error for the DDL
            raise InvalidArgument(f"pipeline {self.name}: value_schema {self.value_schema!r} is not a "
                                  f"Spark DDL schema: {str(e).splitlines()[0]}") from None
        return {"valueSchema": schema.json()}

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise InvalidArgument(
            f"pipeline {self.name} has no output {name!r}",
            hint=f"outputs: {', '.join(o.name for o in self.outputs)}",
        )

    @property
    def dlq_topics(self) -> list[str]:
        return [f"{t}.dlq" for t in self.topics]
