"""Backend options in a log URL's query: typed, checked, carried by `log.url` to other processes
(Spark executors reopen the log from it), and never shown with their secrets."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from riverbed.errors import ConfigError, InvalidArgument
from riverbed.log import mask_url, open_log, url_options
from riverbed.log.kafka import OWN_OPTIONS, PLAIN_RDKAFKA_OPTIONS

KAFKA_KNOWN = {**OWN_OPTIONS, **dict.fromkeys(PLAIN_RDKAFKA_OPTIONS, "")}


def test_own_options_are_typed_and_dotted_ones_pass_as_strings() -> None:
    url = "kafka://h1:9092,h2:9092?replication_factor=3&acks=all&timeout=20&security.protocol=SASL_SSL"
    opts = url_options(url, KAFKA_KNOWN, dotted=True)
    assert opts == {"replication_factor": 3, "acks": "all", "timeout": 20.0, "security.protocol": "SASL_SSL"}
    assert type(opts["replication_factor"]) is int and type(opts["timeout"]) is float
    assert url_options("kafka://h:1", KAFKA_KNOWN, dotted=True) == {}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("replicas=3", ["unknown option 'replicas'", "replication_factor"]),
        ("timeout=soon", ["timeout='soon'", "not a number"]),
        ("replication_factor=2.5", ["replication_factor='2.5'", "whole number"]),
        ("timeout=1&timeout=2", ["'timeout' twice"]),
        ("timeout=", ["'timeout' has no value"]),
    ],
)
def test_bad_kafka_url_options_name_the_option(query: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        open_log(f"kafka://127.0.0.1:1?{query}")  # refused before any connection is tried
    for w in words:
        assert w in str(err.value)


def test_acks_other_than_all_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"acks='1'.*acks=all"):
        open_log("kafka://127.0.0.1:1?acks=1")


def test_secrets_never_appear_in_errors() -> None:
    url = "kafka://h:9092?sasl.username=u&sasl.password=p@ss:w0rd&sasl.oauthbearer.client.secret=s3&nope=1"
    with pytest.raises(ConfigError) as err:
        open_log(url)
    text = str(err.value)
    assert "nope" in text and "sasl.username=u" in text
    assert "p@ss" not in text and "w0rd" not in text and "s3" not in text
    assert mask_url("kafka://h:9092?sasl.password=x&a.b=1") == "kafka://h:9092?sasl.password=***&a.b=1"


def test_embedded_fsync_from_the_url_round_trips(tmp_path: Path) -> None:
    with open_log(f"embedded://{tmp_path}?fsync=always") as log:
        assert log.fsync == "always"
        assert log.url == f"embedded://{tmp_path.resolve()}?fsync=always"
        again = open_log(log.url)
        assert again.fsync == "always" and again.root == log.root
        again.close()
    with open_log(f"embedded://{tmp_path}") as log:
        assert log.fsync == "none" and "?" not in log.url


def test_embedded_url_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown option 'sync'.*fsync"):
        open_log(f"embedded://{tmp_path}?sync=always")
    with pytest.raises(InvalidArgument, match="fsync must be one of"):
        open_log(f"embedded://{tmp_path}?fsync=sometimes")
    with pytest.raises(ConfigError, match="directory in the URL"):
        open_log("embedded?fsync=always", home=tmp_path)  # relative: executors could open another home


@pytest.mark.kafka
def test_kafka_url_options_reach_the_broker_and_round_trip(kafka_broker: str) -> None:
    url = f"kafka://{kafka_broker}?replication_factor=1&acks=all&timeout=20&client.id=rb-url-test"
    with open_log(url) as log:
        assert log.timeout == 20.0 and log._own["replication_factor"] == 1
        assert log._base["client.id"] == "rb-url-test"
        with open_log(log.url) as again:  # what a Spark executor does with the source's log URL
            assert again.url == log.url and again.timeout == 20.0
            assert again._base["client.id"] == "rb-url-test"
        topic = f"t-{uuid.uuid4().hex[:12]}"
        log.create_topic(topic)
        log.append_values(topic, [b"a", b"b"])
        assert [r.value for r in log.read(topic, 0, 0)] == [b"a", b"b"]
        log.delete_topic(topic)
    with pytest.raises(ConfigError, match=r'No such configuration property: "no\.such"'):
        open_log(f"kafka://{kafka_broker}?no.such=1")


@pytest.mark.kafka
def test_replication_factor_above_the_broker_count(kafka_broker: str) -> None:
    """Kafka refuses RF 3 on one broker (INVALID_REPLICATION_FACTOR); Tansu 0.6 accepts it silently
    and keeps one copy: this pins what the test broker does, so a change is noticed."""
    with open_log(f"kafka://{kafka_broker}?replication_factor=3") as log:
        topic = f"t-{uuid.uuid4().hex[:12]}"
        log.create_topic(topic)
        assert log.append_values(topic, [b"x"]).offsets[0] == 0
        assert [r.value for r in log.read(topic, 0, 0)] == [b"x"]
        log.delete_topic(topic)
