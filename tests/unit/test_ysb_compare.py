"""The side-by-side report's ratios: of the medians, and round by round (benchmarks/ysb_compare.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from riverbed.apps.ysb.bench import median_run

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "ysb_compare.py"
_SPEC = importlib.util.spec_from_file_location("ysb_compare", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
compare = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare)


def ceiling(engine: str, rounds: list[int]) -> dict:
    """An engine's ceiling as the comparison builds it: its rounds through `median_run`."""
    return median_run([{"engine": engine, "events_per_s": x} for x in rounds])


def test_per_round_ratios_pair_each_round_and_resist_drift_between_rounds() -> None:
    # the machine is slower in rounds 1-2: both engines feel it, the medians of each do not pair up
    ours = ceiling("riverbed-embedded", [160, 150, 190, 180, 185])
    rate = ceiling("spark-rate-source", [170, 160, 230, 225, 228])
    r = compare.ratios([ours, rate])
    assert r["spark-rate-source"]["of_medians"] == round(180 / 225, 3)
    assert r["spark-rate-source"]["per_round"] == [0.941, 0.938, 0.826, 0.8, 0.811]
    assert r["spark-rate-source"]["per_round_median"] == 0.826
    assert r["riverbed-embedded"] == {"of_medians": 1.0, "per_round": [1.0] * 5, "per_round_median": 1.0}
    assert compare.ratios([rate]) == {}  # no riverbed-embedded ceiling: nothing to compare
    md = compare.table({"ceilings": [ours, rate], "fixed_rates": []})
    assert "| spark-rate-source | 225 | 0.80 | 0.94 / 0.94 / 0.83 / 0.80 / 0.81 (0.83) |  |" in md
