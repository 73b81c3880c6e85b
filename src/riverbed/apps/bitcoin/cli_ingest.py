"""Ingest kinds of the bitcoin app: `coinbase` (WebSocket market data), `bpi` (price-index poller)
and `bitcoin-history` (replay of recorded trades or OHLC bars from CSV)."""

from __future__ import annotations

import argparse

from riverbed.cli import kit


def register_kinds(kinds: argparse._SubParsersAction) -> None:
    """Add the bitcoin ingest kinds to `riverbed ingest`."""
    c = kinds.add_parser(
        "coinbase", help="Coinbase market data over WebSocket (Exchange or Advanced Trade feed)",
        description="Subscribe to Coinbase ticker/trade channels and append one record per tick, trade "
        "or candle (keyed by product). Reconnects with backoff and resubscribes; counts sequence gaps.",
    )
    c.add_argument("--products", default="BTC-USD", help="comma-separated product ids (default: BTC-USD)")
    c.add_argument("--feed", choices=["exchange", "advanced"], default="exchange",
                   help="exchange: ws-feed.exchange.coinbase.com; advanced: advanced-trade-ws "
                   "(default: exchange)")
    c.add_argument("--url", help="WebSocket URL (default: the feed's real endpoint)")
    c.add_argument("--channels", help="comma-separated channels (default: exchange ticker,matches,heartbeat; "
                   "advanced ticker,market_trades,candles,heartbeats)")
    c.set_defaults(func=run_coinbase)

    b = kinds.add_parser("bpi", help="poll a price-index JSON API in the CoinDesk BPI format",
                         description="Poll URL every --interval and append each new index value.")
    b.add_argument("--url", default=None, help="BPI endpoint (default: CoinDesk currentprice.json)")
    b.add_argument("--interval", type=float, default=60.0, metavar="S", help="seconds between polls (60)")
    b.add_argument("--currency", default="USD", help="currency of a historical-close response (USD)")
    b.add_argument("--once", action="store_true", help="poll once and stop")
    b.set_defaults(func=run_bpi)

    h = kinds.add_parser("bitcoin-history", help="replay recorded trades (unix_s,price,amount) or OHLC bars",
                         description="Replay a trades CSV or an OHLC CSV (Date Time,Open,High,Low,Close,"
                         "Volume) as price records, then one heartbeat --close-after later so a stream "
                         "closes the last windows.")
    h.add_argument("file", help="CSV file")
    h.add_argument("--product", default="BTC-USD", help="product id of the records (default: BTC-USD)")
    h.add_argument("--source", default="bitstamp", help="source name kept in each record (bitstamp)")
    h.add_argument("--close-after", type=float, default=86_400.0, metavar="S",
                   help="end heartbeat this many seconds after the last row, 0 for none (default: 1 day)")
    h.set_defaults(func=run_history)
    for k in (c, b, h):
        kit.add_common_options(k)


def run_coinbase(args: argparse.Namespace) -> int:
    from riverbed.apps.bitcoin.normalize import check_message
    from riverbed.connectors.coinbase import CoinbaseSource

    products = [p.strip() for p in args.products.split(",") if p.strip()]
    channels = [c.strip() for c in args.channels.split(",")] if args.channels else None
    src = CoinbaseSource(products, feed=args.feed, url=args.url, channels=channels, check=check_message)
    rc = kit.run_source(args, src, f"{src.url} {','.join(src.channels)} for {','.join(products)}")
    kit.note(f"feed: {src.stats.line()}")
    return rc


def run_bpi(args: argparse.Namespace) -> int:
    from riverbed.apps.bitcoin.normalize import check_message
    from riverbed.connectors.bpi import DEFAULT_URL, BpiSource

    src = BpiSource(args.url or DEFAULT_URL, interval_s=args.interval, currency=args.currency, once=args.once,
                    check=check_message)
    rc = kit.run_source(args, src, f"polling {src.url} every {args.interval:g}s")
    kit.note(f"poller: {src.stats.line()}")
    return rc


def run_history(args: argparse.Namespace) -> int:
    from riverbed.apps.bitcoin.history import HistorySource

    src = HistorySource(args.file, product=args.product, source=args.source, close_after_s=args.close_after)
    return kit.run_source(args, src, f"replaying {args.file} as {args.product}")
