"""Replay of recorded price history (CSV) as price records: trades (`unix_s,price,amount`, the
bitcoincharts/Bitstamp tick export) or OHLC bars (`Date Time,Open,High,Low,Close,Volume[,...]` with
a header). Each row becomes one JSON record keyed by product, its event time as the record time:

    {"type": "match", "product_id": "BTC-USD", "time": "2011-09-13T13:53:36Z", "price": "5.8",
     "size": "1.0", "source": "bitstamp"}
    {"type": "bar", "product_id": "BTC-USD", "time": "2014-06-23T22:00:00Z", "open": "585.46", ...}

History has an end, a live feed does not: after the last row the replay writes one heartbeat
`close_after_s` later (default one day), which moves the stream's watermark past the last windows
so the stream closes them as the batch does. A row that cannot be read goes to the dead-letter topic.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

from riverbed.apps.bitcoin.normalize import normalize, time_us
from riverbed.connectors.base import Item, Rejected, Source
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record
from riverbed.timeutil import iso

BAR_HEADER = ("date time", "open", "high", "low", "close", "volume")


class HistorySource(Source):
    """Yields one price record per CSV row of `path` (trades or OHLC bars), then an end heartbeat."""

    name = "bitcoin-history"

    def __init__(
        self, path: str | os.PathLike[str], *, product: str = "BTC-USD", source: str = "bitstamp",
        close_after_s: float = 86_400.0,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidArgument(f"history file {self.path} does not exist",
                                  hint="give a trades CSV (unix_s,price,amount) or an OHLC CSV")
        self.product, self.source, self.close_after_s = product, source, close_after_s
        self.rows = 0

    def snapshot(self) -> dict[str, object]:
        return {"path": str(self.path), "rows": self.rows}

    def _message(self, row: list[str], bars: bool) -> dict[str, object]:
        """The JSON message for one CSV row (ValueError naming the problem if it is not usable)."""
        if bars:
            if len(row) < 6:
                raise ValueError(f"expected Date Time,Open,High,Low,Close,Volume, got {len(row)} fields")
            t = time_us(row[0].strip().replace(" ", "T"), "Date Time")
            msg = {"type": "bar", "open": row[1], "high": row[2], "low": row[3], "close": row[4],
                   "volume": row[5]}
        else:
            if len(row) != 3:
                raise ValueError(f"expected unix_s,price,amount, got {len(row)} fields")
            t = time_us(row[0], "unix_s")
            msg = {"type": "match", "price": row[1], "size": row[2]}
        msg = {**msg, "product_id": self.product, "time": iso(t // 1000), "source": self.source}
        normalize(msg)  # the same check the pipeline's parse makes
        return msg

    def read(self) -> Iterator[Item]:
        last_us: int | None = None
        key = self.product.encode()
        with open(self.path, encoding="utf-8", newline="") as f:
            first = f.readline()
            bars = tuple(c.strip().lower() for c in first.split(","))[:6] == BAR_HEADER
            lines = f if bars else _chain(first, f)
            for n, row in enumerate(csv.reader(lines), start=2 if bars else 1):
                if self.stopped:
                    return
                if not row:
                    continue
                try:
                    msg = self._message(row, bars)
                except ValueError as e:
                    yield Rejected(",".join(row).encode(), f"{self.path.name} line {n}: {e}")
                    continue
                self.rows += 1
                last_us = time_us(msg["time"])
                yield Record(json.dumps(msg).encode(), key=key, timestamp=last_us // 1000)
        if last_us is not None and self.close_after_s > 0:
            t_ms = last_us // 1000 + int(self.close_after_s * 1000)
            end = {"type": "heartbeat", "product_id": self.product, "time": iso(t_ms),
                   "source": self.source, "end_of_history": True}
            yield Record(json.dumps(end).encode(), key=key, timestamp=t_ms)


def _chain(first: str, rest: io.TextIOBase | Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
