"""The SQLite serving store: merges per batch, exactly once, with parameterised reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from riverbed.errors import InvalidArgument
from riverbed.store import OutputSpec, SqliteStore, StoreError

SPEC = OutputSpec(
    "counts",
    [("window_start", "INTEGER"), ("level", "TEXT"), ("count", "INTEGER"),
     ("lo", "INTEGER"), ("hi", "INTEGER")],
    keys=["window_start", "level"],
    measures={"count": "sum", "lo": "min", "hi": "max"},
    time_columns=["window_start"],
)


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path):
    """Stores of each kind: SQLite in a temp dir, PostgreSQL in a fresh database of a real server."""
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "serving.db")
    from riverbed.store.postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)


@pytest.fixture
def store(make_store) -> SqliteStore:
    s = make_store()
    s.ensure_output("p", SPEC)
    return s


def test_batches_merge_with_each_measures_rule(store: SqliteStore) -> None:
    assert store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 5, 5), (0, "ERROR", 1, 2, 2)]})
    assert store.apply_batch("p", 1, {"counts": [(0, "INFO", 2, 1, 9), (10_000, "INFO", 7, 4, 4)]})
    rows = store.rows("counts")
    assert rows == [
        {"window_start": 0, "level": "ERROR", "count": 1, "lo": 2, "hi": 2},
        {"window_start": 0, "level": "INFO", "count": 5, "lo": 1, "hi": 9},
        {"window_start": 10_000, "level": "INFO", "count": 7, "lo": 4, "hi": 4},
    ]


def test_a_replayed_batch_is_not_counted_twice(store: SqliteStore) -> None:
    assert store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 0, 0)]}, state={"w": 1})
    assert not store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 0, 0)]}, state={"w": 2})
    assert store.rows("counts")[0]["count"] == 3
    assert store.state("p") == {"w": 1}
    assert store.last_batch("p") == 0


def test_a_failing_batch_changes_nothing(store: SqliteStore) -> None:
    store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 0, 0)]})
    with pytest.raises(StoreError):
        store.apply_batch("p", 1, {"counts": [(0, "INFO", 1, 0, 0)], "missing": [(1,)]})
    assert store.rows("counts")[0]["count"] == 3
    assert store.last_batch("p") == 0


def test_replace_is_a_full_recompute(store: SqliteStore) -> None:
    store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 0, 0), (0, "WARN", 1, 0, 0)]})
    store.replace({"counts": [(0, "INFO", 10, 0, 0)]})
    assert [(r["level"], r["count"]) for r in store.rows("counts")] == [("INFO", 10)]


def test_reads_are_parameterised_and_names_checked(store: SqliteStore) -> None:
    evil = "INFO'; DROP TABLE counts;--"
    store.apply_batch("p", 0, {"counts": [(0, "INFO", 3, 0, 0), (20_000, evil, 1, 0, 0)]})
    assert store.rows("counts", where={"level": evil})[0]["count"] == 1
    assert [r["window_start"] for r in store.rows("counts", since=10_000)] == [20_000]
    assert [r["count"] for r in store.rows("counts", order_by=["-count"])] == [3, 1]
    with pytest.raises(InvalidArgument, match="no column"):
        store.rows("counts", where={"level = 1 OR 1": 1})
    with pytest.raises(StoreError, match="no output"):
        store.rows("nope")


def test_changed_schema_is_refused_unless_recomputing(store: SqliteStore) -> None:
    other = OutputSpec("counts", [("window_start", "INTEGER"), ("n", "INTEGER")], keys=["window_start"])
    with pytest.raises(StoreError, match="different"):
        store.ensure_output("p", other)
    store.ensure_output("p", other, recreate=True)
    assert store.spec("counts") == other


def test_bad_specs_are_rejected() -> None:
    with pytest.raises(InvalidArgument):
        OutputSpec("x; drop", [("a", "INTEGER")], keys=["a"])
    with pytest.raises(InvalidArgument):
        OutputSpec("x", [("a", "INTEGER")], keys=["b"])
    with pytest.raises(InvalidArgument):
        OutputSpec("x", [("a", "INTEGER")], keys=["a"], measures={"a": "avg"})


def test_first_and_last_by_time_merge_like_ohlc(make_store) -> None:
    spec = OutputSpec(
        "ohlc",
        [("w", "INTEGER"), ("open", "REAL"), ("open_t", "INTEGER"), ("close", "REAL"), ("close_t", "INTEGER"),
         ("high", "REAL")],
        keys=["w"],
        measures={"open": "first:open_t", "open_t": "min", "close": "last:close_t", "close_t": "max",
                  "high": "max"},
    )
    s = make_store()
    s.ensure_output("p", spec)
    # micro-batches arrive out of time order: the merge must not care
    s.apply_batch("p", 0, {"ohlc": [(0, 10.0, 500, 12.0, 700, 12.0)]})
    s.apply_batch("p", 1, {"ohlc": [(0, 9.0, 100, 11.0, 300, 15.0)]})
    s.apply_batch("p", 2, {"ohlc": [(0, 8.0, 800, 13.0, 900, 13.0)]})
    assert s.rows("ohlc") == [
        {"w": 0, "open": 9.0, "open_t": 100, "close": 13.0, "close_t": 900, "high": 15.0}
    ]
    with pytest.raises(InvalidArgument, match="first:T"):
        OutputSpec("x", [("a", "INTEGER"), ("b", "REAL")], keys=["a"], measures={"b": "first:nope"})


def test_the_pipeline_catalogue_records_and_updates_specs(make_store) -> None:
    from riverbed.pipeline import Output, Panel, Pipeline
    from riverbed.pipeline.catalogue import pipeline_spec

    store = make_store()
    pipe = Pipeline("sales", ["orders"], parse=lambda df: df, transform=lambda df: {},
                    outputs=[Output("per_user", keys=["window_start", "user"], measures={"total": "sum"}),
                             Output("users", keys=["user"])],
                    description="orders -> totals", panels=[Panel("top", "per_user", key="user", y="total")])
    assert store.pipeline_spec("sales") is None and store.catalogue() == []
    store.record_pipeline(pipeline_spec(pipe))
    spec = store.pipeline_spec("sales")
    assert spec["description"] == "orders -> totals" and spec["topics"] == ["orders"]
    assert spec["source"]["file"] == __file__ and spec["source"]["module"] == __name__
    assert [(o["name"], o["time"], o["measures"]) for o in spec["outputs"]] == [
        ("per_user", "window_start", {"total": "sum"}), ("users", None, {})]
    assert Panel.from_dict(spec["panels"][0]) == pipe.panels[0]
    first = spec["first_ms"]
    store.record_pipeline({**pipeline_spec(pipe), "description": "changed"})
    again = store.pipeline_spec("sales")
    assert again["description"] == "changed" and again["first_ms"] == first and store.catalogue() == ["sales"]
