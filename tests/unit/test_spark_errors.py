"""Errors raised in riverbed code inside Spark come back to the user as riverbed's own message."""

from __future__ import annotations

from riverbed.spark.errors import from_spark

WRAPPED = (
    "[PYTHON_DATA_SOURCE_ERROR] Failed to create Python data source instance: Traceback (most recent "
    "call last): File \"/x/readers.py\", line 48, in log_bounds info = log.describe(topic) "
    "riverbed.errors.TopicNotFound: topic 'nope' does not exist (create it with `riverbed topics "
    "create nope --partitions N`) SQLSTATE: 38000"
)


def test_riverbed_message_is_recovered_from_a_spark_error() -> None:
    err = from_spark(RuntimeError(WRAPPED), "batch logwatch")
    assert str(err) == (
        "topic 'nope' does not exist (create it with `riverbed topics create nope --partitions N`)"
    )


def test_other_spark_errors_keep_their_first_line_and_say_what_failed() -> None:
    err = from_spark(RuntimeError("[DIVIDE_BY_ZERO] Division by zero.\n== SQL ==\n..."), "batch logwatch")
    assert err.message == "batch logwatch failed: [DIVIDE_BY_ZERO] Division by zero."
    assert "--debug" in (err.hint or "")
