"""An HTTP poller for a price-index JSON API in the CoinDesk Bitcoin Price Index (BPI) format.

    >>> src = BpiSource("https://api.coindesk.com/v1/bpi/currentprice.json", interval_s=60)  # doctest: +SKIP

Two response shapes are read, both with a `bpi` object:
- current price: `{"time": {"updatedISO": ...}, "bpi": {"USD": {"code": "USD", "rate_float": 50000.1, ...}}}`
  -> one record per currency;
- historical closes: `{"bpi": {"2021-01-01": 38204.8987, ...}}` -> one record per day (the currency
  is `currency`, default USD, as the API's `?currency=` parameter sets it).
Each becomes `{"type": "index", "product_id": "BTC-<CUR>", "time": ..., "price": ..., "source":
"coindesk-bpi"}`, keyed by product. A value already sent (same product and time) is not sent again,
so polling every `interval_s` only adds what is new. Failed requests are retried on the next poll
with exponential backoff; a response that is not BPI JSON, has a value without a readable time, or
has a value the app's `check` refuses (see `riverbed.connectors.base.Check`; the bitcoin app's is
`riverbed.apps.bitcoin.normalize.check_message`) goes whole to the dead-letter topic.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from riverbed.connectors.base import Check, Item, Rejected, Source
from riverbed.errors import InvalidArgument
from riverbed.log.api import Record
from riverbed.timeutil import iso, time_us

DEFAULT_URL = "https://api.coindesk.com/v1/bpi/currentprice.json"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class PollStats:
    polls: int = 0
    failures: int = 0
    records: int = 0
    rejected: int = 0

    def line(self) -> str:
        return (f"{self.polls} polls ({self.failures} failed) -> {self.records} records, "
                f"{self.rejected} rejected")


def bpi_messages(doc: Any, currency: str = "USD") -> list[dict[str, Any]]:
    """The index messages in one BPI response; ValueError naming what is wrong if it is not BPI."""
    if not isinstance(doc, dict) or not isinstance(doc.get("bpi"), dict):
        raise ValueError("not a BPI response: no 'bpi' object")
    out = []
    for key, v in doc["bpi"].items():
        if isinstance(v, dict):  # current price, per currency
            updated = (doc.get("time") or {}).get("updatedISO") if isinstance(doc.get("time"), dict) else None
            price = v.get("rate_float", v.get("rate"))
            if isinstance(price, str):
                price = price.replace(",", "")
            msg = {"time": updated, "price": price, "product_id": f"BTC-{v.get('code') or key}"}
        elif _DAY.match(str(key)):  # historical close per day
            msg = {"time": f"{key}T00:00:00Z", "price": v, "product_id": f"BTC-{currency}"}
        else:
            raise ValueError(f"bpi entry {key!r} is neither a currency object nor a YYYY-MM-DD close")
        out.append({"type": "index", **msg, "source": "coindesk-bpi"})
    return out


class BpiSource(Source):
    """Polls `url` every `interval_s` seconds and yields each new index value as a record."""

    name = "bpi"

    def __init__(self, url: str = DEFAULT_URL, *, interval_s: float = 60.0, currency: str = "USD",
                 timeout_s: float = 10.0, max_backoff_s: float = 300.0, once: bool = False,
                 check: Check | None = None) -> None:
        super().__init__()
        if not url.startswith(("http://", "https://")):
            raise InvalidArgument(f"{url!r} is not an http(s) URL")
        if interval_s <= 0:
            raise InvalidArgument(f"interval must be > 0 s, got {interval_s}")
        self.url, self.interval_s, self.timeout_s = url, interval_s, timeout_s
        self.currency = currency.upper()
        self.max_backoff_s, self.once, self.check = max_backoff_s, once, check
        self.stats = PollStats()
        self._seen: set[tuple[str, int]] = set()

    def _fetch(self) -> bytes:
        req = urllib.request.Request(self.url, headers={"Accept": "application/json",
                                                        "User-Agent": "riverbed-bpi-poller"})
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # http(s) only: checked above
            return resp.read()

    def poll(self) -> list[Item]:
        """One request: the new records, or one dead letter if the body is not BPI JSON."""
        self.stats.polls += 1
        body = self._fetch()
        try:
            msgs = bpi_messages(json.loads(body), self.currency)
            for m in msgs:
                if self.check:
                    self.check(m)
            times = [time_us(m["time"]) // 1000 for m in msgs]
        except (ValueError, UnicodeDecodeError, RecursionError) as e:  # RecursionError: nested too deep
            self.stats.rejected += 1
            return [Rejected(body, f"{self.url}: {e}")]
        items: list[Item] = []
        for m, t in zip(msgs, times, strict=True):
            if (m["product_id"], t) in self._seen:
                continue
            self._seen.add((m["product_id"], t))
            m["time"] = iso(t)
            items.append(Record(json.dumps(m).encode(), key=m["product_id"].encode(), timestamp=t))
        self.stats.records += len(items)
        return items

    def read(self) -> Iterator[Item]:
        wait = self.interval_s
        while not self.stopped:
            try:
                yield from self.poll()
                wait = self.interval_s
            except (urllib.error.URLError, OSError, TimeoutError):
                self.stats.failures += 1
                wait = min(max(wait * 2, 1.0), self.max_backoff_s)
            if self.once:
                return
            left = wait
            while left > 0 and not self.stopped:
                self._stop.wait(min(left, 0.2))
                left -= 0.2
                yield None
