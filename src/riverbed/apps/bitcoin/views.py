"""The bitcoin app's output tables (names, columns, keys, merges): one definition for the pipeline's
outputs, the store tables created before the first micro-batch, and the DataFrames built from rows.

    btc_ohlc_1m, btc_ohlc_5m  product, window_start, window_end, open, high, low, close, volume, trades,
                              open_time, close_time, open_seq, close_seq   (open/close: the tick with
                              the smallest/largest open_seq/close_seq = time in the window, then log offset)
    btc_indicators            product, window_start, close, ma_short, ma_long, volatility
    btc_trades                product, time, side, price, qty, fee, cash, position
    btc_equity                product, time, equity, pnl
    btc_summary               product, return_pct, max_drawdown_pct, trades, fees, final_equity
    btc_sim_state             product, state (JSON: cash, position, pending order, last closes ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from riverbed.pipeline.definition import Output
from riverbed.store import OutputSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

OHLC_COLUMNS = (
    ("product", "string"), ("window_start", "timestamp"), ("window_end", "timestamp"), ("open", "double"),
    ("high", "double"), ("low", "double"), ("close", "double"), ("volume", "double"), ("trades", "bigint"),
    ("open_time", "timestamp"), ("close_time", "timestamp"), ("open_seq", "bigint"), ("close_seq", "bigint"),
)
OHLC_MERGES = {
    "window_end": "replace", "open": "first:open_seq", "high": "max", "low": "min",
    "close": "last:close_seq", "volume": "sum", "trades": "sum", "open_time": "min", "close_time": "max",
    "open_seq": "min", "close_seq": "max",
}
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "btc_ohlc_1m": OHLC_COLUMNS,
    "btc_ohlc_5m": OHLC_COLUMNS,
    "btc_indicators": (("product", "string"), ("window_start", "timestamp"), ("close", "double"),
                       ("ma_short", "double"), ("ma_long", "double"), ("volatility", "double")),
    "btc_trades": (("product", "string"), ("time", "timestamp"), ("side", "string"), ("price", "double"),
                   ("qty", "double"), ("fee", "double"), ("cash", "double"), ("position", "double")),
    "btc_equity": (("product", "string"), ("time", "timestamp"), ("equity", "double"), ("pnl", "double")),
    "btc_summary": (("product", "string"), ("return_pct", "double"), ("max_drawdown_pct", "double"),
                    ("trades", "bigint"), ("fees", "double"), ("final_equity", "double")),
    "btc_sim_state": (("product", "string"), ("state", "string")),
}
KEYS = {
    "btc_ohlc_1m": ("product", "window_start"), "btc_ohlc_5m": ("product", "window_start"),
    "btc_indicators": ("product", "window_start"), "btc_trades": ("product", "time"),
    "btc_equity": ("product", "time"), "btc_summary": ("product",), "btc_sim_state": ("product",),
}
OUTPUTS = [
    Output(name, keys=KEYS[name], measures=OHLC_MERGES if name.startswith("btc_ohlc") else {})
    for name in COLUMNS
]
_SQL = {"string": "TEXT", "timestamp": "INTEGER", "double": "REAL", "bigint": "INTEGER"}


def spec(output: Output) -> OutputSpec:
    """The store table of `output`, exactly as the pipeline's merge derives it from the DataFrame."""
    cols = COLUMNS[output.name]
    return OutputSpec(output.name, [(c, _SQL[t]) for c, t in cols], list(output.keys),
                      dict(output.measures), [c for c, t in cols if t == "timestamp"])


def frame(spark: SparkSession, name: str, rows: Sequence[Mapping[str, Any]]) -> DataFrame:
    """A DataFrame of output `name` from dict rows whose times are epoch ms."""
    from pyspark.sql import functions as F

    cols = COLUMNS[name]
    ddl = ", ".join(f"{c} {'bigint' if t == 'timestamp' else t}" for c, t in cols)
    df = spark.createDataFrame([tuple(r[c] for c, _ in cols) for r in rows], ddl)
    return df.select(*(F.timestamp_millis(c).alias(c) if t == "timestamp" else F.col(c) for c, t in cols))
