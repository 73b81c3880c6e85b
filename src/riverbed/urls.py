"""URLs in messages: hide their passwords. Neutral ground, so the log and the store share it
without the log importing the store."""

from __future__ import annotations

import re


def mask(url: str) -> str:
    """The URL (or key=value DSN) with its password hidden, for messages; up to the LAST @, so a
    password with an unencoded @ is hidden whole, and any password= parameter too."""
    url = re.sub(r"(://[^:/@]+:).*@", r"\1***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url, flags=re.IGNORECASE)
