"""The store's bookkeeping: last applied batch ids, pipeline state, per-batch metrics and the Lambda
batch layer's generations. Mixed into every store; uses only its transaction and spec helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riverbed.store.spec import batch_table, ident


class Bookkeeping:
    """Methods over the `_rb_*` tables; the class using it provides `_tx`, `_conn`, `spec`, `_upsert_sql`."""

    def last_batch(self, pipeline: str, scope: str = "stream") -> int | None:
        row = self._conn().execute(
            "SELECT batch_id FROM _rb_batches WHERE pipeline = ? AND scope = ?", (pipeline, scope)
        ).fetchone()
        return None if row is None else row[0]

    def state(self, pipeline: str) -> dict[str, Any]:
        rows = self._conn().execute("SELECT key, value FROM _rb_state WHERE pipeline = ?", (pipeline,))
        return {k: json.loads(v) for k, v in rows}

    def set_state(self, pipeline: str, values: Mapping[str, Any]) -> None:
        with self._tx() as db:
            for k, v in values.items():
                db.execute("INSERT OR REPLACE INTO _rb_state VALUES (?, ?, ?)", (pipeline, k, json.dumps(v)))

    def metrics(self, pipeline: str, *, scope: str = "stream", limit: int = 100) -> list[dict[str, Any]]:
        """The newest micro-batches' figures, oldest first: batch_id, at_ms and what was recorded."""
        rows = self._conn().execute(
            "SELECT batch_id, at_ms, metrics FROM _rb_metrics WHERE pipeline = ? AND scope = ? "
            "ORDER BY batch_id DESC LIMIT ?",
            (pipeline, scope, int(limit)),
        ).fetchall()
        return [{"batch_id": b, "at_ms": at, **json.loads(m)} for b, at, m in reversed(rows)]

    # -- the pipeline catalogue -----------------------------------------------------------
    def record_pipeline(self, spec: Mapping[str, Any]) -> None:
        """Record (or update) a pipeline's catalogue entry, `riverbed.pipeline.catalogue.pipeline_spec`'s
        JSON data: the dashboard lists and draws pipelines from these, never from their code."""
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a catalogue entry needs the pipeline's name")
        now = time.time_ns() // 1_000_000
        with self._tx() as db:
            db.execute(
                "INSERT INTO _rb_pipelines (name, spec, first_ms, updated_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_ms = excluded.updated_ms",
                (name, json.dumps(spec, sort_keys=True, default=str), now, now),
            )

    def pipeline_spec(self, name: str) -> dict[str, Any] | None:
        """The catalogue entry of pipeline `name` (with first_ms, updated_ms), None if never recorded."""
        row = self._conn().execute(
            "SELECT spec, first_ms, updated_ms FROM _rb_pipelines WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else {**json.loads(row[0]), "first_ms": row[1], "updated_ms": row[2]}

    def catalogue(self) -> list[str]:
        """Names of the pipelines recorded in the catalogue, sorted."""
        return [r[0] for r in self._conn().execute("SELECT name FROM _rb_pipelines ORDER BY name")]

    def output_pipelines(self) -> list[str]:
        """Names of the pipelines that own outputs in this store, sorted."""
        rows = self._conn().execute("SELECT DISTINCT pipeline FROM _rb_outputs WHERE pipeline IS NOT NULL")
        return sorted(r[0] for r in rows)

    # -- the Lambda batch layer ----------------------------------------------------------
    def lambda_state(self, pipeline: str) -> tuple[int, int] | None:
        """(cutoff_ms, generation) of the pipeline's batch views, None before the first batch run."""
        row = self._conn().execute(
            "SELECT cutoff_ms, generation FROM _rb_lambda WHERE pipeline = ? AND generation IS NOT NULL",
            (pipeline,),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def install_batch_views(
        self, pipeline: str, cutoff_ms: int, updates: Mapping[str, Iterable[Sequence[Any]]]
    ) -> int:
        """Write a new generation of batch views, then move the cutoff to it in one commit.

        Readers keep the previous generation and cutoff until that commit and the new ones after:
        never a half-written batch view. Older generations are dropped afterwards. Returns the
        new generation number.
        """
        with self._tx() as db:  # allocate a generation, so two batch runs never share tables
            row = db.execute(
                "SELECT next_generation FROM _rb_lambda WHERE pipeline = ?", (pipeline,)
            ).fetchone()
            gen = (row[0] if row and row[0] else 0) + 1
            db.execute(
                "INSERT INTO _rb_lambda (pipeline, next_generation) VALUES (?, ?) "
                "ON CONFLICT (pipeline) DO UPDATE SET next_generation = excluded.next_generation",
                (pipeline, gen),
            )
        for name, rows in updates.items():
            spec, table = self.spec(name), batch_table(name, gen)
            with self._tx() as db:
                cols = ", ".join(f"{ident(c)} {t}" for c, t in spec.columns)
                keys = ", ".join(ident(k) for k in spec.keys)
                db.execute(f"DROP TABLE IF EXISTS {ident(table)}")
                db.execute(f"CREATE TABLE {ident(table)} ({cols}, PRIMARY KEY ({keys}))")
                db.executemany(self._upsert_sql(spec, table), rows)
        with self._tx() as db:
            old = db.execute("SELECT generation FROM _rb_lambda WHERE pipeline = ?", (pipeline,)).fetchone()
            db.execute(
                "UPDATE _rb_lambda SET cutoff_ms = ?, generation = ?, computed_ms = ? WHERE pipeline = ?",
                (cutoff_ms, gen, time.time_ns() // 1_000_000, pipeline),
            )
        if old and old[0]:
            with self._tx() as db:
                for name in updates:
                    db.execute(f"DROP TABLE IF EXISTS {ident(batch_table(name, old[0]))}")
        return gen
