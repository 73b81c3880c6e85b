"""Spark integration: the SparkSession factory and the unified log as the "riverbed" data source.

    >>> from riverbed.spark import get_spark
    >>> spark = get_spark()                                                   # doctest: +SKIP
    >>> df = spark.read.format("riverbed").option("topic", "logs").load()     # doctest: +SKIP

Importing this package does not import pyspark; `get_spark()` and the source do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from riverbed.spark.session import get_spark, resolve_master

if TYPE_CHECKING:
    from riverbed.spark.datasource import SCHEMA, RiverbedDataSource

__all__ = ["SCHEMA", "RiverbedDataSource", "get_spark", "resolve_master"]


def __getattr__(name: str) -> Any:
    """Load the data source (and pyspark) only when it is asked for."""
    if name in ("SCHEMA", "RiverbedDataSource"):
        from riverbed.spark import datasource

        return getattr(datasource, name)
    raise AttributeError(f"module 'riverbed.spark' has no attribute {name!r}")
