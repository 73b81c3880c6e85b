"""The YSB peers harness's own checks, without the peer engines (their venv is not needed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from riverbed.apps.ysb.generator import YsbGenerator, expected_counts
from riverbed.errors import InvalidArgument

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "peers" / "harness.py"
_SPEC = importlib.util.spec_from_file_location("ysb_peers_harness", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
harness = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(harness)


def test_expected_counts_in_chunks_equal_the_whole_list() -> None:
    gen = YsbGenerator(3)
    whole = expected_counts(list(gen.events(1_000_000, 200.0, 2_500)), gen.ad_to_campaign)
    assert harness._expected(3, 1_000_000, 200.0, 2_500, chunk=700) == whole
    assert sum(whole.values()) > 700  # several chunks' worth of views, over several windows
    assert len({w for _, w in whole}) == 2


def test_check_names_each_wrong_missing_or_extra_window() -> None:
    expected = {("c1", 0): 3, ("c2", 0): 1}
    rows = [{"campaign_id": "c1", "window_start": 0, "count": 3},
            {"campaign_id": "c2", "window_start": 0, "count": 1}]
    assert harness._check(rows, expected) == (True, 0)
    assert harness._check(rows[:1], expected) == (False, 1)
    wrong = [dict(rows[0], count=2), rows[1], {"campaign_id": "c3", "window_start": 10_000, "count": 1}]
    assert harness._check(wrong, expected) == (False, 2)


def test_peer_refuses_an_unknown_engine_or_a_missing_venv(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="unknown engine 'flink'"):
        harness.Peer("flink", sys.executable, "127.0.0.1:1", "t", tmp_path, [])
    with pytest.raises(InvalidArgument, match="no peers python") as e:
        harness.Peer("quix", str(tmp_path / "nope" / "python"), "127.0.0.1:1", "t", tmp_path, [])
    assert "make bench-peers" in str(e.value.hint)
