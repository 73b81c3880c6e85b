"""Stop this process's Spark in the right order before the interpreter exits.

Why: when Python exits with Spark still up, the JVM (whose stdin is this process) dies under its
running work: the Python workers it forked (pyspark's daemon.py) and the runner of a Python
streaming source lose their sockets mid-write and print BrokenPipeError / CANNOT_OPEN_SOCKET
tracebacks, and a foreachBatch callback the JVM is still making fails with py4j errors. Stopping
the streaming queries first (each at a micro-batch boundary, so the last one is committed or
never started) and then the SparkContext lets every worker end on Spark's own request.
"""

from __future__ import annotations

import contextlib


def stop_spark(grace_s: float = 30.0) -> None:
    """Stop every active streaming query, then the SparkContext; a no-op when none is running."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    sc = SparkContext._active_spark_context
    if sc is None or getattr(sc, "_jsc", None) is None:
        return
    spark = SparkSession.getActiveSession() or SparkSession(sc)
    with contextlib.suppress(Exception):  # a query that fails while stopping has said so already
        for query in spark.streams.active:
            query.stop()
            query.awaitTermination(grace_s)
    with contextlib.suppress(Exception):
        spark.stop()
