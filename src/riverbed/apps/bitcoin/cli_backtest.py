"""`riverbed backtest bitcoin --strategy MODULE:FUNC`: run a strategy over the price history in the log
(the bitcoin pipeline in batch mode, the same code as the stream) and print its summary."""

from __future__ import annotations

import argparse
import sys
import time

from riverbed.cli import kit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `riverbed backtest bitcoin` (mounted by the CLI from the entry point backtest.bitcoin)."""
    p = subparsers.add_parser(
        "bitcoin",
        help="back-test a trading strategy over the price history in the log",
        description="Recompute the bitcoin outputs (OHLC, indicators, trades, equity, summary) over the "
        "retained log with the given strategy, then print the summary per product. The stream "
        "(`riverbed run bitcoin`) runs the same code and gives the same trades.",
        epilog="examples:\n  riverbed backtest bitcoin\n"
        "  riverbed backtest bitcoin --strategy mystrategies:breakout --from 2012-01-01 --to 2012-03-01",
    )
    p.add_argument("--strategy", metavar="MODULE:FUNC",
                   help="function (rows, state) -> 'buy'|'sell'|None (default: moving-average crossover)")
    p.add_argument("--topic", help="input topic (default: prices)")
    p.add_argument("--bar", choices=["1m", "5m"], default="1m", help="window the strategy trades on (1m)")
    p.add_argument("--short", type=int, default=5, help="short moving average, in windows (5)")
    p.add_argument("--long", type=int, default=20, help="long moving average and volatility, in windows (20)")
    p.add_argument("--fee", type=float, default=0.001, help="fee per fill, a fraction of its value (0.001)")
    p.add_argument("--cash", type=float, default=10_000.0, help="starting cash per product (10000)")
    p.add_argument("--from", dest="time_from", metavar="T", help="event time from (ISO 8601 or epoch ms)")
    p.add_argument("--to", dest="time_to", metavar="T", help="event time before (ISO 8601 or epoch ms)")
    kit.add_master_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from riverbed.pipeline.runner import Runner
    from riverbed.timeutil import parse_time_ms

    options: dict[str, object] = {"strategy": args.strategy, "bar": args.bar, "short": args.short,
                                  "long": args.long, "fee_rate": args.fee, "cash": args.cash}
    if args.topic:
        options["topic"] = args.topic
    runner = Runner("bitcoin", log=args.log, home=args.home, master=args.master, **options)
    t0 = time.monotonic()
    res = runner.batch(
        source="log",
        time_from=parse_time_ms(args.time_from) if args.time_from else None,
        time_to=parse_time_ms(args.time_to) if args.time_to else None,
    )
    rows = runner.store.rows("btc_summary")
    print(f"backtest over {res.records} records ({res.bad} unparsable) in {time.monotonic() - t0:.1f}s",
          file=sys.stderr)
    kit.emit(kit.table(["product", "return %", "max drawdown %", "trades", "fees", "final equity"],
               [[r["product"], f"{r['return_pct']:.2f}", f"{r['max_drawdown_pct']:.2f}", r["trades"],
                 f"{r['fees']:.2f}", f"{r['final_equity']:.2f}"] for r in rows]))
    return 0
