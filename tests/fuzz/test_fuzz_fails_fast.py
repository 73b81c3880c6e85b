"""A failing fuzz test fails fast: with the fuzz profile, a failure whose shrinking would take many
minutes is reported after the shrink budget, with its example and its `@reproduce_failure` blob."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import fuzzprofile

HERE = Path(__file__).parent

# Every example fails (30+ distinct numbers) and costs 1 s; shrinking 30 distinct numbers toward
# 0..29 takes hundreds of calls, so unbounded it runs for minutes. With a budget of 1 s the first
# shrink call already spends it, so the budget (not the end of shrinking) must stop it.
FAILING = '''
import time
from hypothesis import given, strategies as st

@given(st.lists(st.integers(0, 10**9), min_size=30, max_size=60, unique=True))
def test_always_fails(xs):
    time.sleep(1.0)
    assert len(xs) < 30, "found one"
'''
CONFTEST = f'''
import sys
sys.path.insert(0, {str(HERE)!r})
import fuzzprofile
fuzzprofile.load()
'''


def test_profile_bounds_shrinking_and_skips_explain() -> None:
    from hypothesis import Phase, settings
    from hypothesis.internal.conjecture import engine

    assert engine.MAX_SHRINKING_SECONDS == fuzzprofile.SHRINK_SECONDS <= 120
    assert Phase.explain not in settings().phases and Phase.shrink in settings().phases
    assert settings().print_blob and settings().database is None and not settings().report_multiple_bugs


def test_a_failing_fuzz_test_stops_after_its_shrink_budget(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_failing.py").write_text(FAILING)
    env = {**os.environ, "RIVERBED_FUZZ_SHRINK_SECONDS": "1", "RIVERBED_HYPOTHESIS_PROFILE": "ci"}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=240)
    took = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "found one" in out and ("Failing test case" in out or "Falsifying example" in out), out
    # the budget, not the end of shrinking, stopped it (hypothesis words it two ways, by whether $CI is set)
    assert "took too long to shrink" in out or "stopped because it is making very slow progress" in out, out
    assert "@reproduce_failure(" in out, out  # the blob that replays it exactly
    # unbounded, this shrink runs for many minutes; bounded at 1 s it ends well inside 4 minutes
    # (a loose bound on purpose: it holds on a loaded machine and still fails without the budget)
    assert took < 200, (took, out)
