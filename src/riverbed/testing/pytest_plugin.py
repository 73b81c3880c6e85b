"""riverbed's pytest plugin (entry point `pytest11`): fixtures for testing your pipelines.

    def test_totals(riverbed_spark):
        result = run_pipeline("app.py", ["alice,10"], spark=riverbed_spark)

`riverbed_spark` is one SparkSession for the whole test run (local[2], 2 shuffle partitions, no UI):
Spark takes seconds to start, so a test of a pipeline then costs the pipeline's own time only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def riverbed_spark() -> Iterator[Any]:
    """A SparkSession shared by every test of the run, stopped at its end."""
    from riverbed.spark import get_spark

    session = get_spark("local[2]", app_name="riverbed-tests",
                        conf={"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false"})
    yield session
    session.stop()
