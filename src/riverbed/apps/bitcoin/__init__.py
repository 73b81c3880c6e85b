"""bitcoin: price ticks (Coinbase feeds, replayed history, a price index) -> OHLC per 1 and 5 min,
moving averages, volatility and a simulated trading strategy with its P&L, the same in stream and
batch mode (see pipeline.py). The parse (normalize.py, parse.py) and the simulation (simulate.py)
are plain Python, usable without Spark.
"""

from riverbed.apps.bitcoin.normalize import PRICE_KINDS, Tick, check_message, normalize
from riverbed.apps.bitcoin.simulate import Simulation, crossover, indicators, load_strategy, simulate, summary

__all__ = [
    "PRICE_KINDS",
    "Simulation",
    "Tick",
    "check_message",
    "crossover",
    "indicators",
    "load_strategy",
    "normalize",
    "simulate",
    "summary",
]
