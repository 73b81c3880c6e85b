"""Test helpers that ship with riverbed: a real Kafka-protocol broker for test sessions, and
reading a topic back whole.

>>> from riverbed.testing import TansuBroker
>>> with TansuBroker() as broker:                     # doctest: +SKIP
...     log = open_log(broker.url)
"""

from riverbed.testing.broker import BrokerError, TansuBroker
from riverbed.testing.records import read_topic

__all__ = ["BrokerError", "TansuBroker", "read_topic"]
