"""The serving store on PostgreSQL, for deployments: the same contract as the SQLite store.

`PostgresStore` is `SqliteStore` speaking PostgreSQL: every statement goes through one small
translation (`?` placeholders, `INSERT OR REPLACE/IGNORE`, SQLite's two-argument min/max, column
types), writers are serialised per store with a transaction-scoped advisory lock (as SQLite's
BEGIN IMMEDIATE does), and read snapshots are REPEATABLE READ transactions, so readers never see a
half-applied micro-batch. A version of a pipeline (Kappa) lives in its own schema.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from riverbed.errors import RiverbedError
from riverbed.store.sqlite import SqliteStore, StoreError, ident
from riverbed.urls import mask

_TYPES = (("INTEGER", "BIGINT"), ("REAL", "DOUBLE PRECISION"), ("BLOB", "BYTEA"))
_OR = re.compile(r"^\s*INSERT OR (REPLACE|IGNORE) INTO (\"?[A-Za-z_][A-Za-z0-9_]*\"?)\s*(\(([^)]*)\))?", re.I)


class _Pg:
    """A psycopg connection behind the sqlite3 calls the store makes (execute, executemany)."""

    def __init__(self, conn: Any, schema: str) -> None:
        self.conn, self.schema = conn, schema
        self._pk: dict[str, list[str]] = {}
        self._cols: dict[str, list[str]] = {}

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self.translate(sql), tuple(args) or None)
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cur = self.conn.cursor()
        rows = [tuple(r) for r in rows]
        if rows:
            cur.executemany(self.translate(sql), rows)
        return cur

    def executescript(self, sql: str) -> None:
        for stmt in (s.strip() for s in sql.split(";")):
            if stmt:
                self.execute(stmt)

    def close(self) -> None:
        self.conn.close()

    def _table_info(self, table: str) -> tuple[list[str], list[str]]:
        name = table.strip('"')
        if name not in self._pk:
            cur = self.conn.cursor()
            cur.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (f'"{self.schema}"."{name}"',),
            )
            self._pk[name] = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position", (self.schema, name),
            )
            self._cols[name] = [r[0] for r in cur.fetchall()]
        return self._pk[name], self._cols[name]

    def translate(self, sql: str) -> str:
        """SQLite's dialect, as the store writes it, into PostgreSQL's."""
        s = sql.replace("%", "%%").replace("?", "%s")
        if re.match(r"^\s*CREATE TABLE", s, re.I):
            for a, b in _TYPES:
                s = re.sub(rf"\b{a}\b", b, s)
            self._pk.clear()
            self._cols.clear()
        m = _OR.match(s)
        if m:
            kind, table, cols = m.group(1).upper(), m.group(2), m.group(4)
            s = f"INSERT INTO {table} {m.group(3) or ''}" + s[m.end():]
            if kind == "IGNORE":
                return s + " ON CONFLICT DO NOTHING"
            pk, all_cols = self._table_info(table)
            names = [c.strip().strip('"') for c in cols.split(",")] if cols else all_cols
            sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in names if c not in pk)
            target = ", ".join(f'"{c}"' for c in pk)
            return s + (f" ON CONFLICT ({target}) DO UPDATE SET {sets}" if sets else
                        f" ON CONFLICT ({target}) DO NOTHING")
        return s


class PostgresStore(SqliteStore):
    """Outputs of every pipeline in one PostgreSQL schema (a version of a pipeline: its own schema)."""

    def __init__(self, url: str, *, schema: str = "public") -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError as e:  # pragma: no cover - psycopg is a dependency
            raise StoreError("the PostgreSQL store needs psycopg",
                             hint="pip install 'psycopg[binary]==3.3.9'") from e
        ident(schema)
        self.url, self.schema = url, schema
        self.path = mask(url) + f" (schema {schema})"  # what messages name
        self._local = threading.local()
        self._lock_key = zlib.crc32(f"riverbed:{schema}".encode())
        with self._tx() as db:
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")
        super()._init_meta()

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            import psycopg

            try:
                raw = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as e:
                raise RiverbedError(f"cannot reach the PostgreSQL store at {mask(self.url)}: {e}".strip(),
                                    hint="is the server running? check --store / RIVERBED_STORE") from None
            raw.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(self.schema)}")
            raw.execute(f"SET search_path TO {ident(self.schema)}")
            conn = _Pg(raw, self.schema)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    class _PgTx:
        def __init__(self, conn: _Pg, key: int) -> None:
            self.conn, self.key = conn, key

        def __enter__(self) -> _Pg:
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)".replace("%s", "?"), (self.key,))
            return self.conn

        def __exit__(self, exc_type, *_: object) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self) -> Any:
        return PostgresStore._PgTx(self._conn(), self._lock_key)

    def _upsert_sql(self, spec: Any, table: str | None = None) -> str:
        sql = super()._upsert_sql(spec, table)
        return re.sub(r"= min\(", "= LEAST(", re.sub(r"= max\(", "= GREATEST(", sql))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        conn = self._conn()
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def execute_script(self, sql: str) -> None:
        self._conn().executescript(sql)

    def destroy(self) -> None:
        if self.schema == "public":
            raise StoreError("refusing to drop the public schema", hint="drop v1's outputs one by one")
        self._conn().execute(f"DROP SCHEMA IF EXISTS {ident(self.schema)} CASCADE")
        self.close()

    def has_table(self, table: str) -> bool:
        return bool(self.read(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (self.schema, table)))

    def _tables_like(self, db: Any, name: str) -> list[str]:
        return [r[0] for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND (table_name = ? OR table_name LIKE ?)", (self.schema, name, f"{name}\\_\\_b%"))]
