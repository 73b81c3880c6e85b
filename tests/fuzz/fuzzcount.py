"""The count of cases each fuzz target tried (listed in the terminal summary by conftest.py)."""

from __future__ import annotations

from collections import Counter

#: cases tried per fuzz target, over the whole session
TRIED: Counter[str] = Counter()


def cases(target: str, n: int = 1) -> None:
    """Count `n` generated cases for `target`."""
    TRIED[target] += n
