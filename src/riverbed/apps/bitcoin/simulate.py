"""Indicators and the trading simulation over CLOSED windows, in plain Python, used unchanged by the
stream (a few windows per micro-batch, state carried in the store) and the batch (all windows at
once), so both give the same trades to the last bit.

A strategy is a function `(rows, state) -> "buy" | "sell" | None`: `rows` are the newest closed
windows of one product (oldest first, at most `long + 1`), each a dict with product, window_start,
open, high, low, close, volume, trades, ma_short, ma_long, volatility; `state` is a dict the
strategy may keep things in (JSON values only: it is stored between micro-batches). An order is
filled at the NEXT window's open price, with a fee of `fee_rate` times its value; buys spend all
the cash, sells close the whole position (long only).

    >>> sim = simulate(windows, crossover, fee_rate=0.001, cash0=10_000.0)   # doctest: +SKIP
    >>> sim.trades[0]["side"], summary(sim.state, "BTC-USD")                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riverbed.errors import InvalidArgument

Strategy = Callable[[list[dict[str, Any]], dict[str, Any]], "str | None"]
ROW_FIELDS = ("product", "window_start", "open", "high", "low", "close", "volume", "trades")


def crossover(rows: list[dict[str, Any]], state: dict[str, Any]) -> str | None:
    """Moving-average crossover: buy when the short average crosses above the long one, sell below."""
    if len(rows) < 2:
        return None
    prev, cur = rows[-2], rows[-1]
    if None in (prev["ma_short"], prev["ma_long"], cur["ma_short"], cur["ma_long"]):
        return None
    if prev["ma_short"] <= prev["ma_long"] and cur["ma_short"] > cur["ma_long"]:
        return "buy"
    if prev["ma_short"] >= prev["ma_long"] and cur["ma_short"] < cur["ma_long"]:
        return "sell"
    return None


def load_strategy(spec: str | Strategy | None) -> Strategy:
    """A strategy from "module:func" or "path/to/file.py:func" (None: the default crossover)."""
    if spec is None or spec == "crossover":
        return crossover
    if callable(spec):
        return spec
    module_name, _, func = spec.rpartition(":")
    if not module_name or not func:
        raise InvalidArgument(f"strategy {spec!r} is not MODULE:FUNC", hint="e.g. mystrategies:breakout")
    try:
        if module_name.endswith(".py") or "/" in module_name:
            path = Path(module_name)
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or not path.is_file():
                raise FileNotFoundError(module_name)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(module_name)
    except (ImportError, FileNotFoundError) as e:
        raise InvalidArgument(f"cannot import strategy module {module_name!r}: {e}",
                              hint="put it on PYTHONPATH or give a path to a .py file") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise InvalidArgument(f"strategy module {module_name!r} has no function {func!r}")
    return fn


def new_state(cash0: float) -> dict[str, Any]:
    """A product's simulation state before its first window (kept as JSON in the store)."""
    return {"cash": cash0, "cash0": cash0, "position": 0.0, "pending": None, "rows": [], "closes": [],
            "peak": cash0, "max_dd": 0.0, "trades": 0, "fees": 0.0, "equity": cash0,
            "last_start": None, "strategy": {}}


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


Maybe = float | None


def indicators(closes: Sequence[float], short: int, long: int) -> tuple[Maybe, Maybe, Maybe]:
    """(ma_short, ma_long, volatility) from the newest closes: volatility is the sample standard
    deviation of the last `long` simple returns (None until two returns exist)."""
    ma_s = _mean(closes[-short:]) if len(closes) >= short else None
    ma_l = _mean(closes[-long:]) if len(closes) >= long else None
    tail = closes[-(long + 1):]
    rets = [b / a - 1.0 for a, b in itertools.pairwise(tail)]
    vol = None
    if len(rets) >= 2:
        m = _mean(rets)
        vol = math.sqrt(sum((r - m) ** 2 for r in rets) / (len(rets) - 1))
    return ma_s, ma_l, vol


@dataclass
class Simulation:
    """Rows produced by one `simulate` call, and the state to carry to the next one."""

    trades: list[dict[str, Any]] = field(default_factory=list)
    equity: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


def _fill(st: dict[str, Any], w: Mapping[str, Any], fee_rate: float) -> dict[str, Any] | None:
    """Fill the pending order at this window's open; returns the trade row."""
    side, st["pending"] = st["pending"], None
    price = float(w["open"])
    if side == "buy" and st["position"] == 0 and st["cash"] > 0:
        qty = st["cash"] / (price * (1.0 + fee_rate))  # all the cash: value plus fee
        fee = st["cash"] - qty * price
        st["cash"], st["position"] = 0.0, qty
    elif side == "sell" and st["position"] > 0:
        qty = st["position"]
        fee = qty * price * fee_rate
        st["cash"] = st["cash"] + qty * price - fee
        st["position"] = 0.0
    else:
        return None
    st["trades"] += 1
    st["fees"] += fee
    return {"product": w["product"], "time": w.get("open_time", w["window_start"]), "side": side,
            "price": price, "qty": qty, "fee": fee, "cash": st["cash"], "position": st["position"]}


def simulate(
    windows: Sequence[Mapping[str, Any]],
    strategy: Strategy = crossover,
    fee_rate: float = 0.001,
    cash0: float = 10_000.0,
    *,
    short: int = 5,
    long: int = 20,
    state: dict[str, Any] | None = None,
) -> Simulation:
    """Run `strategy` over one product's closed windows (ascending window_start), from `state`
    (None: a fresh account with `cash0`). Windows at or before the state's last one are ignored."""
    st = json.loads(json.dumps(state)) if state is not None else new_state(cash0)
    out = Simulation(state=st)
    name = getattr(strategy, "__name__", "strategy")
    for w in windows:
        if st["last_start"] is not None and w["window_start"] <= st["last_start"]:
            continue
        st["last_start"] = w["window_start"]
        if st["pending"]:
            trade = _fill(st, w, fee_rate)
            if trade:
                out.trades.append(trade)
        close = float(w["close"])
        st["closes"] = (st["closes"] + [close])[-(long + 1):]
        ma_s, ma_l, vol = indicators(st["closes"], short, long)
        row = {k: w[k] for k in ROW_FIELDS}
        row.update(volume=round(float(w["volume"]), 8), ma_short=ma_s, ma_long=ma_l, volatility=vol)
        st["rows"] = (st["rows"] + [row])[-(long + 1):]
        out.indicators.append({"product": w["product"], "window_start": w["window_start"], "close": close,
                               "ma_short": ma_s, "ma_long": ma_l, "volatility": vol})
        signal = strategy([dict(r) for r in st["rows"]], st["strategy"])
        st["strategy"] = json.loads(json.dumps(st["strategy"]))  # the same state a restart would see
        if signal not in ("buy", "sell", None):
            raise InvalidArgument(f"strategy {name} returned {signal!r} for {w['product']} at window "
                                  f"{w['window_start']}", hint='return "buy", "sell" or None')
        if (signal == "buy" and st["position"] == 0) or (signal == "sell" and st["position"] > 0):
            st["pending"] = signal
        equity = st["cash"] + st["position"] * close
        st["equity"] = equity
        st["peak"] = max(st["peak"], equity)
        st["max_dd"] = max(st["max_dd"], (st["peak"] - equity) / st["peak"] if st["peak"] > 0 else 0.0)
        out.equity.append({"product": w["product"], "time": w["window_end"], "equity": equity,
                           "pnl": equity - st["cash0"]})
    return out


def summary(state: Mapping[str, Any], product: str) -> dict[str, Any]:
    """The summary row of a product: return and max drawdown in %, trades, fees, final equity."""
    return {"product": product, "return_pct": (state["equity"] / state["cash0"] - 1.0) * 100.0,
            "max_drawdown_pct": state["max_dd"] * 100.0, "trades": state["trades"],
            "fees": state["fees"], "final_equity": state["equity"]}
