"""One real Spark standalone cluster (master + 2 workers on 127.0.0.1) for the cluster tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from riverbed.testing.spark_cluster import SparkCluster


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[SparkCluster]:
    """A standalone master and two 1-core/1g workers for the whole session; killed at the end."""
    with SparkCluster(workers=2, cores=1, memory="1g") as cluster:
        yield cluster
