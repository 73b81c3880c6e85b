"""Test helpers that ship with riverbed: run a pipeline over a list of records (`run_pipeline`), a
real Kafka-protocol broker for test sessions, and reading a topic back whole.

>>> from riverbed.testing import TansuBroker
>>> with TansuBroker() as broker:                     # doctest: +SKIP
...     log = open_log(broker.url)
"""

from riverbed.testing.broker import BrokerError, TansuBroker
from riverbed.testing.pipelines import PipelineResult, assert_stream_equals_batch, run_pipeline
from riverbed.testing.records import read_topic

__all__ = ["BrokerError", "PipelineResult", "TansuBroker", "assert_stream_equals_batch", "read_topic",
           "run_pipeline"]
