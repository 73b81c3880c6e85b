"""The serving store on SQLite: pipeline outputs as tables, updated idempotently per micro-batch.

Each output is a table with key columns and measure columns. A micro-batch's partial results are
merged into it (count += partial, min/max, replace) in ONE transaction together with the batch id,
so a replayed batch (same id after a crash) is skipped and never double-counts, and readers in other
processes (WAL mode) never see a half-applied batch. All SQL is built from validated identifiers
and bound parameters, never from caller text.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from riverbed.errors import InvalidArgument
from riverbed.store._bookkeeping import Bookkeeping
from riverbed.store.spec import ORDERED_MERGES, OutputSpec, StoreError, batch_table, ident

__all__ = ["OutputSpec", "SqliteStore", "StoreError", "batch_table", "ident"]

_META_DDL = (
    "CREATE TABLE IF NOT EXISTS _rb_outputs (name TEXT PRIMARY KEY, pipeline TEXT, spec TEXT)",
    "CREATE TABLE IF NOT EXISTS _rb_batches (pipeline TEXT, scope TEXT, batch_id INTEGER,"
    " PRIMARY KEY (pipeline, scope))",
    "CREATE TABLE IF NOT EXISTS _rb_state (pipeline TEXT, key TEXT, value TEXT, PRIMARY KEY (pipeline, key))",
    "CREATE TABLE IF NOT EXISTS _rb_metrics (pipeline TEXT, scope TEXT, batch_id INTEGER, at_ms INTEGER,"
    " metrics TEXT, PRIMARY KEY (pipeline, scope, batch_id))",
    # the Lambda batch layer: which generation of batch views serves times before which cutoff
    "CREATE TABLE IF NOT EXISTS _rb_lambda (pipeline TEXT PRIMARY KEY, cutoff_ms INTEGER, generation INTEGER,"
    " next_generation INTEGER, computed_ms INTEGER)",
    # the pipeline catalogue: each pipeline's spec (outputs, panels...) as JSON, recorded when it runs
    "CREATE TABLE IF NOT EXISTS _rb_pipelines (name TEXT PRIMARY KEY, spec TEXT, first_ms INTEGER,"
    " updated_ms INTEGER)",
)
METRICS_KEPT = 10_000  # per pipeline and scope: the newest micro-batches' figures


class SqliteStore(Bookkeeping):
    """Outputs of every pipeline in one SQLite file (WAL: many readers while one writer updates)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._init_meta()

    def _init_meta(self) -> None:
        with self._tx() as db:
            for ddl in _META_DDL:
                db.execute(ddl)

    # -- connections ----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, *_: object) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self) -> SqliteStore._Tx:
        return SqliteStore._Tx(self._conn())

    def transaction(self) -> SqliteStore._Tx:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error) for riverbed's own
        bookkeeping tables (versions, aliases); SQL text must be fixed, values bound."""
        return self._tx()

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a fixed read query with bound values."""
        return self._conn().execute(sql, args).fetchall()

    def drop_output(self, name: str) -> None:
        """Delete an output: its table, its batch views and its registration."""
        with self._tx() as db:
            tables = self._tables_like(db, name)
            for t in tables:
                db.execute(f"DROP TABLE IF EXISTS {ident(t)}")
            db.execute("DELETE FROM _rb_outputs WHERE name = ?", (name,))

    def destroy(self) -> None:
        """Delete the whole store (a dropped pipeline version's)."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- outputs --------------------------------------------------------------------------
    def ensure_output(self, pipeline: str, spec: OutputSpec, *, recreate: bool = False) -> None:
        """Create the output's table if missing. A different existing spec is an error unless
        `recreate` (a batch recompute, which rewrites every row anyway)."""
        with self._tx() as db:
            row = db.execute("SELECT spec FROM _rb_outputs WHERE name = ?", (spec.name,)).fetchone()
            if row and row[0] == spec.to_json():
                return
            if row and not recreate:
                raise StoreError(
                    f"output {spec.name!r} exists in {self.path} with different columns or keys",
                    hint="the pipeline's code changed: reprocess it into a new version, or drop the output",
                )
            cols = ", ".join(f"{ident(c)} {t}" for c, t in spec.columns)
            keys = ", ".join(ident(k) for k in spec.keys)
            db.execute(f"DROP TABLE IF EXISTS {ident(spec.name)}")
            db.execute(f"CREATE TABLE {ident(spec.name)} ({cols}, PRIMARY KEY ({keys}))")
            db.execute(
                "INSERT OR REPLACE INTO _rb_outputs VALUES (?, ?, ?)", (spec.name, pipeline, spec.to_json())
            )

    def spec(self, name: str) -> OutputSpec:
        row = self._conn().execute("SELECT spec FROM _rb_outputs WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.outputs()) or "none yet"
            raise StoreError(f"no output named {name!r} in {self.path}", hint=f"known outputs: {known}")
        return OutputSpec.from_json(name, row[0])

    def outputs(self, pipeline: str | None = None) -> list[str]:
        q, args = "SELECT name FROM _rb_outputs", ()
        if pipeline:
            q, args = q + " WHERE pipeline = ?", (pipeline,)
        return sorted(r[0] for r in self._conn().execute(q, args))

    # -- writes ---------------------------------------------------------------------------
    def _upsert_sql(self, spec: OutputSpec, table: str | None = None) -> str:
        """Merge one partial row into `table` (default: the output's own) by the spec's rules.
        The stored row's columns are qualified with the table name (PostgreSQL needs it)."""
        cols = spec.column_names
        t = ident(table or spec.name)
        sets = []
        for c in cols:
            if c in spec.keys:
                continue
            m = spec.measures.get(c, "replace")
            q = ident(c)
            old = f"{t}.{q}"
            kind, _, by = m.partition(":")
            if kind in ORDERED_MERGES:  # every SET expression reads the stored row as it was
                tb, cmp = ident(by), "<" if kind == "first" else ">"
                sets.append(f"{q} = CASE WHEN excluded.{tb} {cmp} {t}.{tb} THEN excluded.{q} ELSE {old} END")
                continue
            sets.append(
                {"sum": f"{q} = {old} + excluded.{q}", "min": f"{q} = min({old}, excluded.{q})",
                 "max": f"{q} = max({old}, excluded.{q})", "replace": f"{q} = excluded.{q}"}[m]
            )
        conflict = f"ON CONFLICT ({', '.join(ident(k) for k in spec.keys)}) DO "
        conflict += f"UPDATE SET {', '.join(sets)}" if sets else "NOTHING"
        return (
            f"INSERT INTO {t} ({', '.join(ident(c) for c in cols)}) "
            f"VALUES ({', '.join('?' * len(cols))}) {conflict}"
        )

    def apply_batch(
        self,
        pipeline: str,
        batch_id: int,
        updates: Mapping[str, Iterable[Sequence[Any]]],
        *,
        scope: str = "stream",
        state: Mapping[str, Any] | None = None,
        derived: Sequence[str] = (),
        metrics: Mapping[str, Any] | None = None,
    ) -> bool:
        """Merge each output's partial rows and record `batch_id`, atomically.

        `derived` are the pipeline's own fixed SQL statements (never user text) run after the merge
        in the same transaction, e.g. to refresh an output computed from others. Returns False
        (and changes nothing) if this batch id, or a later one, was already applied
        for (pipeline, scope): a replay after a crash. `metrics` (figures of this micro-batch, e.g.
        records and latency) are kept beside it for the dashboard, the newest METRICS_KEPT only.
        """
        with self._tx() as db:
            row = db.execute(
                "SELECT batch_id FROM _rb_batches WHERE pipeline = ? AND scope = ?", (pipeline, scope)
            ).fetchone()
            if row is not None and batch_id <= row[0]:
                return False
            for name, rows in updates.items():
                db.executemany(self._upsert_sql(self.spec(name)), rows)
            for sql in derived:
                db.execute(sql)
            for k, v in (state or {}).items():
                db.execute("INSERT OR REPLACE INTO _rb_state VALUES (?, ?, ?)", (pipeline, k, json.dumps(v)))
            db.execute("INSERT OR REPLACE INTO _rb_batches VALUES (?, ?, ?)", (pipeline, scope, batch_id))
            if metrics is not None:
                db.execute(
                    "INSERT OR REPLACE INTO _rb_metrics VALUES (?, ?, ?, ?, ?)",
                    (pipeline, scope, batch_id, time.time_ns() // 1_000_000, json.dumps(dict(metrics))),
                )
                db.execute(
                    "DELETE FROM _rb_metrics WHERE pipeline = ? AND scope = ? AND batch_id <= ?",
                    (pipeline, scope, batch_id - METRICS_KEPT),
                )
        return True

    def _tables_like(self, db: Any, name: str) -> list[str]:
        """An output's table and its batch views' tables."""
        return [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = ? OR name LIKE ? ESCAPE '\\')",
            (name, f"{name}\\_\\_b%"),
        )]

    def has_table(self, table: str) -> bool:
        return self._conn().execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone() is not None

    def output_pipeline(self, name: str) -> str | None:
        """The pipeline that writes output `name`, None if no pipeline does."""
        row = self._conn().execute("SELECT pipeline FROM _rb_outputs WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def replace(self, updates: Mapping[str, Iterable[Sequence[Any]]], derived: Sequence[str] = ()) -> None:
        """Replace the whole contents of each named output, atomically (a batch recompute)."""
        with self._tx() as db:
            for name, rows in updates.items():
                spec = self.spec(name)
                db.execute(f"DELETE FROM {ident(name)}")
                db.executemany(self._upsert_sql(spec), rows)
            for sql in derived:
                db.execute(sql)

    def put_rows(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, replace_all: bool = False,
        derived: Sequence[str] = (),
    ) -> None:
        """Write rows into a table a pipeline maintains itself (e.g. a model), atomically."""
        with self._tx() as db:
            if replace_all:
                db.execute(f"DELETE FROM {ident(table)}")
            if rows:
                cols = list(rows[0])
                db.executemany(
                    f"INSERT OR REPLACE INTO {ident(table)} ({', '.join(ident(c) for c in cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))})",
                    [tuple(r[c] for c in cols) for r in rows],
                )
            for sql in derived:
                db.execute(sql)

    def table_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a pipeline-maintained table (not an output), as dicts."""
        cur = self._conn().execute(f"SELECT * FROM {ident(table)}")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]

    def execute_script(self, sql: str) -> None:
        """Run a pipeline's own fixed DDL (e.g. a table it maintains beside its outputs)."""
        self._conn().executescript(sql)

    # -- reads ----------------------------------------------------------------------------
    def rows(
        self,
        name: str,
        *,
        where: Mapping[str, Any] | None = None,
        since: int | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of an output as dicts; `where` is column=value equality, `since` filters the first
        time column (epoch ms, >=). Column names are checked against the output's spec."""
        spec = self.spec(name)
        return self.select(spec, ident(name), (), where=where, since=since, order_by=order_by, limit=limit)

    def select(
        self,
        spec: OutputSpec,
        source: str,
        source_args: Sequence[Any],
        *,
        where: Mapping[str, Any] | None = None,
        since: int | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """`rows()` over any source with the output's columns (a table, or a subquery built from
        checked identifiers and bound `source_args`, e.g. the serving layer's batch+speed union)."""
        name, cols = spec.name, spec.column_names
        clauses, args = [], list(source_args)
        for c, v in (where or {}).items():
            if c not in cols:
                raise InvalidArgument(f"{name} has no column {c!r}", hint=f"columns: {', '.join(cols)}")
            clauses.append(f"{ident(c)} = ?")
            args.append(v)
        if since is not None:
            if not spec.time_columns:
                raise InvalidArgument(f"{name} has no time column to filter with --since")
            clauses.append(f"{ident(spec.time_columns[0])} >= ?")
            args.append(since)
        order = list(order_by) if order_by else list(spec.keys)
        for c in order:
            if c.lstrip("-") not in cols:
                raise InvalidArgument(f"{name} has no column {c!r} to order by")
        sql = f"SELECT {', '.join(ident(c) for c in cols)} FROM {source}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY " + ", ".join(
            f"{ident(c[1:])} DESC" if c.startswith("-") else ident(c) for c in order
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(zip(cols, r, strict=True)) for r in self._conn().execute(sql, args)]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one consistent state of the store (a read transaction), so an answer
        built from several tables never mixes before and after a writer's commit."""
        conn = self._conn()
        if conn.in_transaction:  # already inside one: reuse it
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")
