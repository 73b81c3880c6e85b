"""The fuzz tests' hypothesis profiles (fuzzprofile.py: bounded, fail-fast) and a count of the cases
each target tried: each test counts its cases with `fuzzcount.cases(target)`; the terminal summary
lists them per target."""

from __future__ import annotations

import fuzzprofile
from fuzzcount import TRIED

fuzzprofile.load()


def pytest_terminal_summary(terminalreporter) -> None:
    if TRIED:
        terminalreporter.write_sep("-", "hypothesis cases tried per fuzz target")
        for target, n in sorted(TRIED.items()):
            terminalreporter.write_line(f"{target:45s} {n:7d}")
