"""The JVM jars of `make jars` (jvm/pom.xml) load into riverbed's SparkSession: Delta Lake writes
and reads a table, and Spark's own Kafka connector writes to and reads from the test broker.

Nothing in riverbed uses either format yet; these prove the pinned jars match the pinned pyspark
(Delta's jar for another Spark fails on every read). Without the jar cache they are skipped,
except under CI, where `make test` has filled it.

The test broker is Tansu, which answers the Java client's "latest offset" with the last record
batch's base offset + 1 (a 100-record batch at 0 reads as ending at 1), so Spark's
`endingOffsets=latest` there misses records; the read below names its ending offsets, as taken
from riverbed's log (librdkafka's watermarks are right). Apache Kafka answers correctly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from riverbed.log import TopicConfig, open_log

pytestmark = pytest.mark.spark


@pytest.fixture(autouse=True)
def _needs_jars(spark) -> None:
    """Skip (fail under CI) when the session started without the cached jars."""
    loaded = spark.sparkContext.getConf().get("spark.jars", "")
    if "delta-spark_" not in loaded or "spark-sql-kafka" not in loaded:
        reason = f"no JVM jars on the session (spark.jars={loaded!r}); run `make jars`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def test_delta_table_round_trip(spark, tmp_path: Path) -> None:
    from delta.tables import DeltaTable

    path = str(tmp_path / "table")
    spark.createDataFrame([(1, "a"), (2, "b")], "id INT, name STRING").write.format("delta").save(path)
    spark.createDataFrame([(3, "c")], "id INT, name STRING").write.format("delta").mode("append").save(path)

    rows = spark.read.format("delta").load(path).orderBy("id").collect()
    assert [(r.id, r.name) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]
    assert (tmp_path / "table" / "_delta_log" / "00000000000000000001.json").is_file()
    # the Python package (delta-spark on PyPI) drives the same jar: two commits, versions 0 and 1
    history = DeltaTable.forPath(spark, path).history().select("version", "operation").collect()
    assert sorted((h.version, h.operation) for h in history) == [(0, "WRITE"), (1, "WRITE")]


@pytest.mark.kafka
def test_kafka_connector_round_trip(spark, kafka_broker: str, topic: str) -> None:
    sent = [(f"k{i}", f"v{i}") for i in range(5)]
    with open_log(f"kafka://{kafka_broker}") as log:
        log.create_topic(topic, TopicConfig(partitions=1))
        (spark.createDataFrame(sent, "key STRING, value STRING")
         .write.format("kafka")
         .option("kafka.bootstrap.servers", kafka_broker)
         .option("topic", topic)
         .save())
        # what the connector wrote, as librdkafka reads it back (the writing tasks ran side by side)
        written = [(r.key.decode(), r.value.decode()) for r in log.read(topic, 0, 0)]
        assert sorted(written) == sent
        end = log.offsets(topic, 0)[1]

    got = (spark.read.format("kafka")
           .option("kafka.bootstrap.servers", kafka_broker)
           .option("subscribe", topic)
           .option("startingOffsets", "earliest")
           .option("endingOffsets", json.dumps({topic: {"0": end}}))
           .load()
           .selectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value", "offset")
           .orderBy("offset")
           .collect())
    assert [(r.key, r.value) for r in got] == written
    assert [r.offset for r in got] == list(range(5))

