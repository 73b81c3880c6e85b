"""The fuzz tests' hypothesis profiles, and the bounds that make a failing fuzz test fail fast.

Profiles (pick with `pytest tests/fuzz --hypothesis-profile=NAME` or $RIVERBED_HYPOTHESIS_PROFILE):
    ci   (default) a bounded number of examples per test, no deadline: the directory runs in ~60 s
    long deep runs: many more examples per test (minutes)

A failure costs a minute, not CI's whole limit: each example here may run a CLI command or a Spark
job, so hypothesis' own bounds (5 minutes of shrinking per failure, then an 'explain' phase that
runs the failure many more times, every distinct bug shrunk in turn) can add up to half an hour.
On CI ($CI set) the `ci` profile is derandomized: the same examples every run. Here shrinking stops
after SHRINK_SECONDS ($RIVERBED_FUZZ_SHRINK_SECONDS), the explain phase is
off, the first bug found is the one reported, and the failing example is printed with its
`@reproduce_failure` blob (print_blob) so it can be replayed exactly.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import engine

#: seconds hypothesis may spend shrinking a failing example before it reports what it has
SHRINK_SECONDS = int(os.environ.get("RIVERBED_FUZZ_SHRINK_SECONDS", "60"))
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)  # no Phase.explain

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_COMMON = {"deadline": None, "suppress_health_check": _QUIET, "database": None, "print_blob": True,
           "phases": PHASES, "report_multiple_bugs": False}


def load() -> None:
    """Register the profiles, bound shrinking, and load $RIVERBED_HYPOTHESIS_PROFILE (default ci)
    unless an explicit --hypothesis-profile was given."""
    engine.MAX_SHRINKING_SECONDS = SHRINK_SECONDS  # documented by hypothesis as the knob to patch
    # on CI ($CI set, as .ci/run has it) the examples are derandomized: the same every run, so CI never
    # fails by the luck of a draw; a developer's run draws afresh and finds new cases
    settings.register_profile("ci", max_examples=150, derandomize=bool(os.environ.get("CI")), **_COMMON)
    settings.register_profile("long", max_examples=5000, **_COMMON)
    # hypothesis' plugin has applied an explicit --hypothesis-profile before a conftest loads: keep
    # it. "ci" is hypothesis' own profile when $CI is set (derandomized, explain phase on): replace it
    if settings.get_current_profile_name() in ("default", "ci"):
        settings.load_profile(os.environ.get("RIVERBED_HYPOTHESIS_PROFILE", "ci"))
