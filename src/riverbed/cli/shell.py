"""`riverbed shell` and `riverbed sql "SELECT ..."`: interactive exploration of data at rest.

Both start PySpark with every lake dataset (`<home>/lake/<pipeline>`, Parquet) and every serving-store
output (such as buzz_terms; SQLite or PostgreSQL) registered as SQL views. Store outputs are read
through the store's own API and handed to Spark (no JDBC driver needed); their time columns (epoch
ms in the store) become timestamps. `shell` opens a Python prompt with
`spark` and `sql(...)` ready; `sql` runs one query and prints a table (or JSON lines).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riverbed.cli._common import add_master_option, positive_int
from riverbed.pipeline.locations import add_options as add_storage_options

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SPARK_TYPES = {"INTEGER": "bigint", "REAL": "double", "TEXT": "string", "BLOB": "binary"}
_CONVERT = {"bigint": int, "double": float, "string": str, "binary": bytes}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `shell` and `sql` (one module: they share the view registration)."""
    sh = subparsers.add_parser(
        "shell", help="interactive PySpark over the lake and the serving store (tables as SQL views)",
        description=__doc__.split("\n\n", 1)[1],
        epilog='example:\n  riverbed shell\n  >>> sql("SELECT term, sum(count) n FROM buzz_terms '
        'GROUP BY term ORDER BY n DESC").show()',
    )
    add_master_option(sh)
    add_storage_options(sh)
    sh.set_defaults(func=run_shell)
    q = subparsers.add_parser(
        "sql", help="run one Spark SQL query over the lake and the serving store, print the rows",
        description="Run QUERY with Spark SQL over the same views as `riverbed shell` "
        "(`riverbed sql 'SHOW VIEWS'` lists them).",
        epilog="examples:\n  riverbed sql \"SELECT repo, sum(count) AS n FROM buzz_repos GROUP BY repo "
        "ORDER BY n DESC LIMIT 10\"\n"
        "  riverbed sql \"SELECT source, count(*) FROM buzz GROUP BY source\" --json",
    )
    q.add_argument("query", help="one Spark SQL statement")
    q.add_argument("--json", action="store_true", help="one JSON object per row")
    q.add_argument("--limit", type=positive_int, default=1000, help="print at most N rows (default: 1000)")
    add_master_option(q)
    add_storage_options(q)
    q.set_defaults(func=run_sql)


def view_name(name: str) -> str:
    """A SQL-safe view name for a dataset directory or table name."""
    return re.sub(r"\W", "_", name)


def register_views(spark: SparkSession, home: Path, store_url: str | None = None) -> dict[str, str]:
    """Register every lake dataset and store output as a temp view; returns {view: what it is}."""
    from riverbed.pipeline import locations
    from riverbed.pipeline.sinks import read_lake
    from riverbed.store import open_store

    views: dict[str, str] = {}
    lake = locations.lake_root(home)  # <home>/lake, or the --lake / $RIVERBED_LAKE root (any Hadoop URI)
    for name, is_dir in sorted(locations.children(lake, spark).items()):
        d = locations.join(lake, name)
        if not is_dir or name == "versions":  # a root of its own also holds Kappa versions' lakes
            continue
        if locations.scheme(d) == "" and not any(Path(d).rglob("*.parquet")):
            continue
        try:
            df = read_lake(spark, home, name)
        except Exception:  # an empty dataset on a remote file system: nothing to show yet
            continue
        df.createOrReplaceTempView(view_name(name))
        views[view_name(name)] = f"lake {d}"
    store = open_store(store_url, home=home)
    for name in store.outputs():
        store_frame(spark, store, name).createOrReplaceTempView(view_name(name))
        views[view_name(name)] = "serving store output"
    return views


def store_frame(spark: SparkSession, store: Any, name: str) -> Any:
    """A store output as a Spark DataFrame, typed from its spec; time columns as timestamps."""
    from pyspark.sql import functions as F

    spec = store.spec(name)
    cols = [(c, _SPARK_TYPES.get(t, "string")) for c, t in spec.columns]
    convert = [_CONVERT[ty] for _, ty in cols]
    rows = [tuple(None if r[c] is None else f(r[c]) for (c, _), f in zip(cols, convert, strict=True))
            for r in store.rows(name)]
    df = spark.createDataFrame(rows, ", ".join(f"`{c}` {ty}" for c, ty in cols))
    for c in spec.time_columns:
        df = df.withColumn(c, F.timestamp_millis(F.col(c)))
    return df


def _session(args: argparse.Namespace) -> tuple[SparkSession, dict[str, str]]:
    from riverbed.config import resolve_home
    from riverbed.pipeline.locations import apply_options
    from riverbed.spark import get_spark

    home = resolve_home(args.home)
    apply_options(args)
    spark = get_spark(args.master, app_name="riverbed-shell")
    return spark, register_views(spark, home, getattr(args, "store", None))


def run_sql(args: argparse.Namespace) -> int:
    from riverbed.cli._common import emit, table
    from riverbed.errors import InvalidArgument
    from riverbed.timeutil import iso

    spark, views = _session(args)
    try:
        df = spark.sql(args.query)
    except Exception as e:  # a Spark AnalysisException or ParseException: the user's SQL is wrong
        msg = str(e).strip().splitlines()[0][:300]
        known = ", ".join(sorted(views)) or "none (nothing in the lake or store yet)"
        raise InvalidArgument(f"SQL error: {msg}", hint=f"views: {known}") from None
    rows = [r.asDict(recursive=True) for r in df.limit(args.limit).collect()]

    def show(v: Any) -> Any:
        if hasattr(v, "timestamp"):  # datetimes from timestamp columns: ISO 8601 UTC
            return iso(int(v.timestamp() * 1000))
        return v

    if args.json:
        emit("\n".join(json.dumps({k: show(v) for k, v in r.items()}, default=str) for r in rows))
    else:
        emit(table(df.columns, [[show(r[c]) for c in df.columns] for r in rows]))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=sys.stderr)
    return 0


def run_shell(args: argparse.Namespace) -> int:
    import code

    spark, views = _session(args)
    lines = [f"  {v:<24} {what}" for v, what in sorted(views.items())] or ["  (none yet)"]
    banner = ("riverbed shell: `spark` is a SparkSession; sql(\"SELECT ...\") returns a DataFrame.\n"
              "views:\n" + "\n".join(lines) + "\nCtrl-D to leave.")
    code.interact(banner=banner, local={"spark": spark, "sql": spark.sql, "views": views}, exitmsg="")
    return 0
