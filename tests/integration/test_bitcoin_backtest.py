"""Back-test = live: the bitcoin pipeline over replayed real history gives the same OHLC, indicators,
trades, equity and summary as a batch and as streams cut into different micro-batches; the OHLC
also matches a plain-Python recomputation from the CSV, and the trades a plain-Python simulation."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import pytest

from riverbed.apps.bitcoin.history import HistorySource
from riverbed.apps.bitcoin.simulate import crossover, load_strategy, simulate
from riverbed.cli import main
from riverbed.connectors.ingest import Ingestor
from riverbed.errors import InvalidArgument
from riverbed.log import TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.store import open_store

DATA = Path(__file__).parent.parent / "data" / "bitcoin"
TRADES = DATA / "bitstamp_btcusd_trades_2011-09_to_2012-05.csv"
BARS = DATA / "bitstamp_btcusd_30min_ohlcv_2014-06-23_to_2014-08-03.csv"
SIM = ["btc_trades", "btc_equity", "btc_indicators", "btc_summary"]
OHLC = ["btc_ohlc_1m", "btc_ohlc_5m"]


def exact(rows: list[dict]) -> list[dict]:
    """OHLC rows without the float-summed volume (summed in a different order per micro-batch)."""
    return [{k: v for k, v in r.items() if k != "volume"} for r in rows]


def plain_ohlc(width_s: int) -> dict[int, dict]:
    """1m/5m OHLC of the trades CSV in plain Python: file order decides open and close on ties."""
    out: dict[int, dict] = {}
    with open(TRADES, newline="") as f:
        for ts, price, size in csv.reader(f):
            t, p, s = int(ts), float(price), float(size)
            start = (t - t % width_s) * 1000
            w = out.get(start)
            if w is None:
                out[start] = {"open": p, "high": p, "low": p, "close": p, "volume": s, "trades": 1}
            else:
                w.update(high=max(w["high"], p), low=min(w["low"], p), close=p,
                         volume=w["volume"] + s, trades=w["trades"] + 1)
    return out


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A log holding the trades (BTC-USD, 2011-12) then the 30-min bars (as BTC-BARS, 2014)."""
    url = f"embedded://{tmp_path_factory.mktemp('btc') / 'log'}"
    with open_log(url) as log:
        log.create_topic("prices", TopicConfig(partitions=1))
        stats = Ingestor(log, "prices").run(HistorySource(TRADES))
        stats2 = Ingestor(log, "prices").run(HistorySource(BARS, product="BTC-BARS"))
    assert (stats.written, stats.rejected, stats2.written) == (10_000, 0, 1_969)  # + end heartbeats
    return url


@pytest.fixture(scope="module")
def batch(spark, history: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    runner = Runner("bitcoin", log=history, home=tmp_path_factory.mktemp("batch"), spark=spark)
    res = runner.batch(source="log")
    assert res.records == 11_969 and res.bad == 0
    return {n: runner.store.rows(n) for n in SIM + OHLC}


def test_ohlc_matches_plain_python(batch: dict[str, list[dict]]) -> None:
    for name, width in (("btc_ohlc_1m", 60), ("btc_ohlc_5m", 300)):
        expected = plain_ohlc(width)
        got = {r["window_start"]: r for r in batch[name] if r["product"] == "BTC-USD"}
        assert sorted(got) == sorted(expected), name
        for start, e in expected.items():
            g = got[start]
            assert (g["open"], g["high"], g["low"], g["close"], g["trades"]) == (
                e["open"], e["high"], e["low"], e["close"], e["trades"]), (name, start)
            assert math.isclose(g["volume"], e["volume"], rel_tol=1e-12), (name, start)
    # the replayed 30-min bars: one bar per 1-min window, its OHLC kept as recorded
    with open(BARS, newline="") as f:
        recorded = list(csv.reader(f))[1:]
    bars = [r for r in batch["btc_ohlc_1m"] if r["product"] == "BTC-BARS"]
    assert len(bars) == len(recorded) == 1968
    assert [(b["open"], b["high"], b["low"], b["close"]) for b in bars[:3]] == [
        tuple(float(x) for x in r[1:5]) for r in recorded[:3]]


def test_trades_match_plain_python_simulation(batch: dict[str, list[dict]]) -> None:
    windows = defaultdict(list)
    for r in batch["btc_ohlc_1m"]:
        windows[r["product"]].append(r)
    for product, ws in windows.items():
        sim = simulate(ws, crossover, 0.001, 10_000.0)
        trades = [r for r in batch["btc_trades"] if r["product"] == product]
        assert trades == sim.trades, product
        assert len(trades) > 20, "expected the crossover strategy to trade on real history"
    summary = {r["product"]: r for r in batch["btc_summary"]}
    assert summary["BTC-USD"]["trades"] == len([t for t in batch["btc_trades"] if t["product"] == "BTC-USD"])
    assert 0 < summary["BTC-USD"]["max_drawdown_pct"] <= 100


@pytest.mark.parametrize("per_trigger", [4_000])  # 3 micro-batches; the batch run is one
def test_stream_equals_batch(spark, history: str, batch, tmp_path: Path, per_trigger: int) -> None:
    runner = Runner("bitcoin", log=history, home=tmp_path, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=per_trigger)
    handle.wait(300)
    assert len([s for s in handle.history if s.records]) == math.ceil(11_969 / per_trigger)
    assert sum(s.late + s.bad for s in handle.history) == 0
    for name in SIM:
        assert runner.store.rows(name) == batch[name], name
    for name in OHLC:
        got = runner.store.rows(name)
        assert exact(got) == exact(batch[name]), name
        pairs = zip(got, batch[name], strict=True)
        assert all(math.isclose(a["volume"], b["volume"], rel_tol=1e-12) for a, b in pairs)


BUY_AND_HOLD = """
def buy_once(rows, state):
    state["seen"] = state.get("seen", 0) + 1
    return "buy" if state["seen"] == 1 else None
"""


def test_backtest_cli_runs_a_strategy_module(spark, history: str, tmp_path: Path, capsys) -> None:
    strategy = tmp_path / "mystrategies.py"
    strategy.write_text(BUY_AND_HOLD)
    rc = main(["--log", history, "--home", str(tmp_path), "backtest", "bitcoin",
               "--strategy", f"{strategy}:buy_once", "--from", "2012-01-01T00:00:00Z", "--fee", "0.002"])
    out = capsys.readouterr().out
    assert rc == 0 and "BTC-USD" in out and "BTC-BARS" in out
    store = open_store(home=tmp_path)
    [trade] = store.rows("btc_trades", where={"product": "BTC-USD"})
    # independently from the CSV: bought at the open of the 2nd minute with trades in 2012, held
    t0 = 1_325_376_000  # 2012-01-01T00:00:00Z
    minutes: dict[int, list[float]] = defaultdict(list)
    with open(TRADES, newline="") as f:
        for ts, price, _ in csv.reader(f):
            if int(ts) >= t0:
                minutes[int(ts) // 60].append(float(price))
    starts = sorted(minutes)
    fill, last = minutes[starts[1]][0], minutes[starts[-1]][-1]
    assert (trade["side"], trade["price"]) == ("buy", fill)
    [summary] = store.rows("btc_summary", where={"product": "BTC-USD"})
    assert math.isclose(summary["final_equity"], 10_000 / (fill * 1.002) * last, rel_tol=1e-12)
    assert summary["trades"] == 1 and math.isclose(summary["fees"], 10_000 - 10_000 / 1.002, rel_tol=1e-9)


def test_strategy_errors_name_the_function() -> None:
    with pytest.raises(InvalidArgument, match="cannot import strategy module 'no_such_module'"):
        load_strategy("no_such_module:f")
    with pytest.raises(InvalidArgument, match="is not MODULE:FUNC"):
        load_strategy("crossover_without_colon")
    windows = [{"product": "X", "window_start": i * 60_000, "window_end": (i + 1) * 60_000, "open": 1.0,
                "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0, "trades": 1, "open_time": i * 60_000}
               for i in range(3)]

    def hold(rows, state):
        return "hold"

    with pytest.raises(InvalidArgument, match="strategy hold returned 'hold' for X"):
        simulate(windows, hold)
