"""Hypothesis profiles for the fuzz tests, and a count of the cases each target tried.

Profiles (pick with `pytest tests/fuzz --hypothesis-profile=NAME`):
    ci   (default) a bounded number of examples per test, no deadline: the directory runs in ~60 s
    long deep runs: many more examples per test (minutes)
Each test counts its cases with `fuzzcount.cases(target)`; the terminal summary lists them per target.
"""

from __future__ import annotations

import os

from fuzzcount import TRIED
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_COMMON = {"deadline": None, "suppress_health_check": _QUIET, "database": None, "print_blob": True}
settings.register_profile("ci", max_examples=150, **_COMMON)
settings.register_profile("long", max_examples=5000, **_COMMON)
# hypothesis' plugin has applied an explicit --hypothesis-profile before this conftest loads: keep it
if settings.get_current_profile_name() == "default":
    settings.load_profile(os.environ.get("RIVERBED_HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter) -> None:
    if TRIED:
        terminalreporter.write_sep("-", "hypothesis cases tried per fuzz target")
        for target, n in sorted(TRIED.items()):
            terminalreporter.write_line(f"{target:45s} {n:7d}")
