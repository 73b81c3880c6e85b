"""Test helpers that ship with riverbed: a real Kafka-protocol broker for test sessions.

>>> from riverbed.testing import TansuBroker
>>> with TansuBroker() as broker:                     # doctest: +SKIP
...     log = open_log(broker.url)
"""

from riverbed.testing.broker import BrokerError, TansuBroker

__all__ = ["BrokerError", "TansuBroker"]
