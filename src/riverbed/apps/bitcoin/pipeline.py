"""The bitcoin pipeline: price ticks in; OHLC per 1 and 5 min, moving averages, volatility and a
simulated trading strategy with its P&L out — one definition, run as a stream and as a batch.

OHLC windows are partial per micro-batch and merged in the store (open/close by first/last tick,
high max, low min, volume and trades summed), so they come out the same whatever the batches.
Indicators and the strategy are sequential: they run in plain Python (simulate.py) over CLOSED
windows only (window end <= watermark = newest event time - lateness), in time order, exactly once.
In stream mode each micro-batch reads the windows still open in the store, merges its own partials,
simulates the windows that closed, and hands the new rows and the carried state (cash, position,
pending order, last closes) to the same store transaction as everything else (a replayed batch is
skipped by its id). In batch mode every window is closed at the end. Same windows, same code, same
order: the same trades.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from riverbed.apps.bitcoin import views
from riverbed.apps.bitcoin.simulate import load_strategy, simulate, summary
from riverbed.errors import InvalidArgument
from riverbed.pipeline.definition import Pipeline
from riverbed.pipeline.panels import Markers, Panel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from riverbed.store import SqliteStore

NAME = "bitcoin"
BARS = {"1m": ("btc_ohlc_1m", "1 minute"), "5m": ("btc_ohlc_5m", "5 minutes")}
USE = {"trades": ("trade", "bar", "index"), "ticker": ("ticker", "bar", "index"),
       "candles": ("candle", "bar", "index")}
SIM_OUTPUTS = ("btc_trades", "btc_equity", "btc_indicators", "btc_summary", "btc_sim_state")
_SEQ_SCALE = 10**10  # open/close order inside a window: microseconds since its start, then log offset


def parse(df: DataFrame) -> DataFrame:
    """Log records -> product, time, price, size, open, high, low, kind, source, seq (+ error, raw)."""
    from riverbed.apps.bitcoin.parse import PARSED_DDL, parse_batches

    return df.select("value", "topic", "partition", "offset", "timestamp").mapInArrow(
        parse_batches, PARSED_DDL
    )


def ohlc(df: DataFrame, width: str) -> DataFrame:
    """Partial OHLC rows per product and tumbling window of `width` over price rows."""
    from pyspark.sql import functions as F

    w = F.window("time", width)
    seq = (F.unix_micros("time") - F.unix_micros(F.col("w.start"))) * F.lit(_SEQ_SCALE) + F.col("offset")
    return (
        df.withColumn("w", w).withColumn("seq_in_w", seq)
        .groupBy("product", "w")
        .agg(
            F.min_by("open", "seq_in_w").alias("open"), F.max("high").alias("high"),
            F.min("low").alias("low"), F.max_by("price", "seq_in_w").alias("close"),
            F.sum(F.coalesce("size", F.lit(0.0))).alias("volume"), F.count(F.lit(1)).alias("trades"),
            F.min("time").alias("open_time"), F.max("time").alias("close_time"),
            F.min("seq_in_w").alias("open_seq"), F.max("seq_in_w").alias("close_seq"),
        )
        .select("product", F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"),
                *[c for c, _ in views.OHLC_COLUMNS[3:]])
    )


def merge_ohlc(rows: list[Mapping[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Partial OHLC rows merged per (product, window_start) with the store's rules."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        k = (r["product"], r["window_start"])
        m = out.get(k)
        if m is None:
            out[k] = dict(r)
            continue
        if r["open_seq"] < m["open_seq"]:
            m["open"] = r["open"]
        if r["close_seq"] > m["close_seq"]:
            m["close"] = r["close"]
        m["high"], m["low"] = max(m["high"], r["high"]), min(m["low"], r["low"])
        m["volume"] += r["volume"]
        m["trades"] += r["trades"]
        for c in ("open_time", "open_seq"):
            m[c] = min(m[c], r[c])
        for c in ("close_time", "close_seq"):
            m[c] = max(m[c], r[c])
    return out


def build(
    topic: str = "prices",
    bar: str = "1m",
    strategy: str | None = None,
    short: int = 5,
    long: int = 20,
    fee_rate: float = 0.001,
    cash: float = 10_000.0,
    use: str = "trades",
    lateness_ms: int = 60_000,
) -> Pipeline:
    """The bitcoin pipeline over `topic`; the strategy runs on `bar` ("1m"/"5m") windows."""
    if bar not in BARS:
        raise InvalidArgument(f"bar {bar!r} is not one of {sorted(BARS)}")
    if use not in USE:
        raise InvalidArgument(f"use={use!r} is not one of {sorted(USE)}",
                              hint="trades: matches/market_trades; ticker: ticker messages")
    if not 1 <= short < long:
        raise InvalidArgument(f"moving averages need 1 <= short < long, got short={short} long={long}")
    strat = load_strategy(strategy)
    bar_output = BARS[bar][0]
    kinds = USE[use]
    run: dict[str, Any] = {"store": None, "batch_id": None}  # set by the hooks below

    def setup_store(store: SqliteStore) -> None:
        run["store"], run["batch_id"] = store, None  # batch mode unless foreach_batch says otherwise
        for o in views.OUTPUTS:
            store.ensure_output(NAME, views.spec(o))

    def foreach_batch(df: DataFrame, batch_id: int) -> None:
        run["batch_id"] = batch_id

    def closed_windows(bars: list[dict[str, Any]], df: DataFrame) -> tuple[list[dict], dict[str, dict]]:
        """Stream: this batch's partials merged with the open windows in the store; those now closed."""
        from pyspark.sql import functions as F

        store: SqliteStore = run["store"]
        states = {r["product"]: json.loads(r["state"]) for r in store.rows("btc_sim_state")}
        starts = [s["last_start"] for s in states.values() if s["last_start"] is not None]
        since = min(starts) + 1 if starts and len(states) else None
        merged = merge_ohlc(store.rows(bar_output, since=since) + bars)
        newest = [store.state(NAME).get("max_event_time_ms"), df.agg(F.max(F.unix_millis("time"))).first()[0]]
        top = max((t for t in newest if t is not None), default=None)
        if top is None:
            return [], states
        watermark = top - lateness_ms
        last = {p: s["last_start"] for p, s in states.items()}
        done = [w for w in merged.values()
                if w["window_end"] <= watermark and w["window_start"] > (last.get(w["product"]) or -1)]
        return done, states

    def transform(df: DataFrame) -> dict[str, DataFrame]:
        from pyspark.sql import functions as F

        from riverbed.pipeline.sinks import collect_rows

        prices = df.where(F.col("kind").isin(*kinds) & F.col("price").isNotNull())
        frames = {o: ohlc(prices, w) for o, w in BARS.values()}
        names = [c for c, _ in views.OHLC_COLUMNS]
        bars = [dict(zip(names, r, strict=True)) for r in collect_rows(frames[bar_output])]
        spark = df.sparkSession
        frames[bar_output] = views.frame(spark, bar_output, bars)  # computed once, handed back as is
        if run["batch_id"] is None:  # batch: every window is closed, every account starts fresh
            windows, states = bars, {}
        else:
            windows, states = closed_windows(bars, df)
        rows: dict[str, list[dict[str, Any]]] = {n: [] for n in SIM_OUTPUTS}
        by_product: dict[str, list[dict[str, Any]]] = {}
        for w in sorted(windows, key=lambda w: (w["product"], w["window_start"])):
            by_product.setdefault(w["product"], []).append(w)
        for product, ws in by_product.items():
            sim = simulate(ws, strat, fee_rate, cash, short=short, long=long, state=states.get(product))
            rows["btc_trades"] += sim.trades
            rows["btc_equity"] += sim.equity
            rows["btc_indicators"] += sim.indicators
            rows["btc_summary"].append(summary(sim.state, product))
            rows["btc_sim_state"].append({"product": product, "state": json.dumps(sim.state)})
        frames.update({n: views.frame(spark, n, r) for n, r in rows.items()})
        return frames

    return Pipeline(
        name=NAME,
        topics=[topic],
        parse=parse,
        transform=transform,
        outputs=views.OUTPUTS,
        event_time="time",
        lateness_ms=lateness_ms,
        setup_store=setup_store,
        foreach_batch=foreach_batch,
        description="price ticks -> OHLC 1m/5m, moving averages, volatility, simulated strategy and P&L",
        panels=PANELS,
    )


#: What the dashboard draws, one product at a time: the price with its moving averages and the
#: simulated trades on it, the newest figures, the equity curve, the back-test summary, the trades.
PANELS = [
    Panel("line", "btc_indicators", title="price with moving averages; ▲ buy ▼ sell", x="window_start",
          y=["close", "ma_short", "ma_long"], select="product", zero=False,
          styles={"close": "#0f172a", "ma_short": "#2563eb", "ma_long": "#d97706"},
          markers=Markers("btc_trades", x="time", y="price", side="side", down=["sell"],
                          label=["side", "qty", "price"])),
    Panel("stat", "btc_indicators", title="last close", x="window_start", y=["close", "volatility"],
          select="product"),
    Panel("stat", "btc_equity", title="strategy", x="time", y=["equity", "pnl"], select="product"),
    Panel("line", "btc_equity", title="equity curve", x="time", y=["equity"], select="product", zero=False,
          styles={"equity": "#16a34a"}),
    Panel("table", "btc_summary", title="back-test summary", select="product"),
    Panel("table", "btc_trades", title="simulated trades", x="time", select="product", limit=20),
    Panel("line", "btc_ohlc_1m", title="1-minute bars: high, low, close", x="window_start",
          y=["high", "low", "close"], select="product", zero=False),
    Panel("line", "btc_ohlc_5m", title="5-minute bars: high, low, close", x="window_start",
          y=["high", "low", "close"], select="product", zero=False),
]
