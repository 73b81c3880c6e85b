"""Shared fixtures: a log per backend, one Kafka-protocol broker per test session.

`log` runs a test once per backend (embedded in a temp dir; kafka against a Tansu broker on
127.0.0.1 started once for the session). Each test gets its own topic names via `topic`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from riverbed.log import Log, open_log

if TYPE_CHECKING:
    from riverbed.testing.broker import TansuBroker

BACKENDS = ["embedded", "kafka"]


@pytest.fixture(scope="session")
def tansu() -> Iterator[TansuBroker]:
    """The session's Tansu broker itself (fault tests freeze and thaw its process)."""
    from riverbed.testing.broker import TansuBroker

    with TansuBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_broker(tansu: TansuBroker) -> str:
    """A Tansu broker on a free loopback port for the whole session: its 'host:port'."""
    return tansu.bootstrap


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def log_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL opening a fresh log of the current backend (other processes can open it too)."""
    if backend == "embedded":
        return f"embedded://{tmp_path / 'log'}"
    return "kafka://" + request.getfixturevalue("kafka_broker")


@pytest.fixture
def log(log_url: str) -> Iterator[Log]:
    with open_log(log_url) as lg:
        yield lg


@pytest.fixture
def topic() -> str:
    """A topic name no other test uses (the Kafka broker is shared by the whole session)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def topic_factory():
    """Make several unique topic names in one test."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def spark():
    """One SparkSession for the whole test session (start-up costs 5-7 s): local[2], 2 shuffle partitions."""
    from riverbed.spark import get_spark

    session = get_spark(
        "local[2]",
        app_name="riverbed-tests",
        conf={"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false"},
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 for the session (installed first when missing, as root)."""
    from riverbed.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().__enter__()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: {e}")
    yield server
    server.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.new_database()
