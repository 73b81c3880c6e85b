"""The unified log as a Spark data source ("riverbed"), for `spark.read` and `spark.readStream`.

    >>> df = (spark.readStream.format("riverbed").option("topic", "logs")       # doctest: +SKIP
    ...       .option("startingOffsets", "earliest").option("maxRecordsPerTrigger", 100_000).load())

Columns are those of Spark's Kafka source (`SCHEMA`). Options: `topic` (one or a comma list),
`log` (URL; default resolved on the driver), `home`, `startingOffsets` / `endingOffsets`
("earliest", "latest" or Kafka-style JSON), `maxRecordsPerTrigger`, `failOnDataLoss`,
`valueSchema` (a StructType's JSON: values decoded in the source into `json` + `json_error` columns),
`minPartitions` (with `minRecordsPerPartition`: cut a range only while pieces keep that many),
`maxRecordsPerPartition`, `brokerWaitMs` (how long an unavailable log is waited for before
the query fails; default $RIVERBED_BROKER_WAIT s or 300 s; see riverbed.spark.waits), `faultHook`
(fault tests only: riverbed.spark.faulthook). Executors open the log from its URL and read Arrow
batches straight from it; nothing is funnelled through the driver.
"""

from __future__ import annotations

from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceStreamReader
from pyspark.sql.types import StructType

from riverbed.spark.options import SCHEMA, Settings, absolute_log_url
from riverbed.spark.readers import LogBatchReader, LogSplit, LogStreamReader, bounds_waiting


class RiverbedDataSource(DataSource):
    """The unified log as a Spark source; `default_log` is set when the class is registered."""

    default_log: str | None = None

    @classmethod
    def name(cls) -> str:
        return "riverbed"

    def schema(self) -> StructType:
        """Kafka's columns; also checks the options and topics so mistakes fail at `load()` (an
        unavailable log is waited for, up to brokerWaitMs)."""
        settings = Settings.parse(dict(self.options), self.default_log, stream=False)
        bounds_waiting(settings.url, settings.topics, settings, "checking the topics at load() (schema)")
        return settings.schema()

    def reader(self, schema: StructType) -> DataSourceReader:
        return LogBatchReader(Settings.parse(dict(self.options), self.default_log, stream=False))

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        return LogStreamReader(Settings.parse(dict(self.options), self.default_log, stream=True))


def source_class(log: str | None = None, home: str | None = None) -> type[RiverbedDataSource]:
    """A RiverbedDataSource subclass whose default log is resolved now, here on the driver."""
    url = absolute_log_url(log, home)
    # Defined in a function, the class is pickled by value with its `default_log` when registered.
    return type("RiverbedDataSource", (RiverbedDataSource,), {"default_log": url})


__all__ = ["SCHEMA", "LogBatchReader", "LogSplit", "LogStreamReader", "RiverbedDataSource", "source_class"]
