"""`riverbed query OUTPUT`: the current rows of a pipeline output in the serving store."""

from __future__ import annotations

import argparse
import json
import sys

from riverbed.cli._common import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "query",
        help="show the current rows of a pipeline output (serving store)",
        description="Print the rows of OUTPUT (e.g. level_counts) as the serving layer answers: from the "
        "pipeline version serving queries, batch views before the cutoff merged with the stream's rows "
        "after it. Times are ISO 8601 UTC.",
    )
    p.add_argument("output", metavar="[APP] OUTPUT", nargs="*",
                   help="output name (omit to list outputs), after the app it belongs to if you like "
                   "(a name, app.py or package.module: `riverbed query app.py totals`)")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep rows whose COL equals VALUE (repeatable)")
    p.add_argument("--since", metavar="T", help="rows whose first time column is >= T (ISO 8601 or epoch ms)")
    p.add_argument("--order", action="append", metavar="COL[:desc]",
                   help="order by COL, e.g. --order count:desc (repeatable; default: the key columns)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N rows")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run)


def parse_where(items: list[str]) -> dict[str, str]:
    """COL=VALUE pairs; values stay text and are bound as parameters (SQLite compares by affinity)."""
    from riverbed.errors import InvalidArgument

    out = {}
    for item in items:
        col, sep, value = item.partition("=")
        if not sep or not col.strip():
            raise InvalidArgument(f"--where {item!r} is not COL=VALUE", hint="e.g. --where level=ERROR")
        out[col.strip()] = value
    return out


def _app_and_output(words: list[str]) -> tuple[str | None, str | None]:
    """[APP] [OUTPUT] -> (the app's pipeline name or None, the output or None); one word is an
    output unless it is an app reference (a file, a module:attr, or a known app's name)."""
    from riverbed.app import known_apps, pipeline_name
    from riverbed.errors import InvalidArgument

    if len(words) > 2:
        raise InvalidArgument(f"query takes [APP] OUTPUT, got {len(words)} words",
                              hint="e.g. riverbed query totals, or riverbed query app.py totals")
    if len(words) == 2:
        return pipeline_name(words[0]), words[1]
    if not words:
        return None, None
    word = words[0]
    if word.endswith(".py") or "/" in word or ":" in word or word in known_apps():
        return pipeline_name(word), None
    return None, word


def run(args: argparse.Namespace) -> int:
    from riverbed.cli._common import emit, table
    from riverbed.config import resolve_home
    from riverbed.kappa import serving_store
    from riverbed.layers.serving import owner, query
    from riverbed.store import open_store
    from riverbed.timeutil import iso, parse_time_ms

    root = resolve_home(args.home)
    app, output = _app_and_output(args.output)
    if not output:
        names = open_store(home=root).outputs(app)
        emit(table(["output"], [[o] for o in names]))
        return 0
    args.output = output
    pipeline = owner(output, root)
    if app is not None and pipeline != app:
        from riverbed.errors import InvalidArgument

        raise InvalidArgument(f"output {output!r} belongs to pipeline {pipeline}, not {app}",
                              hint=f"`riverbed query {app}` lists {app}'s outputs")
    store = serving_store(pipeline, home=root)  # the version serving it
    spec = store.spec(args.output)
    where = parse_where(args.where)
    for c in spec.time_columns:  # times typed as ISO are compared as epoch ms
        if c in where:
            where[c] = parse_time_ms(where[c])
    order = [f"-{o[:-5]}" if o.lower().endswith(":desc") else o.removesuffix(":asc")
             for o in args.order or []]
    rows = query(
        store, args.output, where=where, since=parse_time_ms(args.since) if args.since else None,
        order_by=order or None, limit=args.limit,
    )
    for r in rows:
        for c in spec.time_columns:
            r[c] = iso(r[c])
    if args.json:
        sys.stdout.write("".join(json.dumps(r) + "\n" for r in rows))
    else:
        emit(table(spec.column_names, [[r[c] for c in spec.column_names] for r in rows]))
    print(f"({len(rows)} row{'' if len(rows) == 1 else 's'})", file=sys.stderr)  # as `shell` does
    return 0
