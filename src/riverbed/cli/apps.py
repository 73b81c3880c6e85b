"""`riverbed apps`: the apps a bare name can run, their pipelines and outputs, and where each came from.

An app is found if it is installed (entry point group `riverbed.apps`, as riverbed's own are),
configured in ./pyproject.toml `[tool.riverbed.apps]` or ./riverbed.toml `[apps]`; any file or
module runs without being listed (`riverbed run app.py`). `riverbed apps REF` describes one.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "apps",
        help="list the apps you can run, their pipelines and outputs",
        description="List the known apps (installed, or configured in ./pyproject.toml [tool.riverbed.apps] "
        "or ./riverbed.toml), or describe one app by any reference.",
        epilog="examples:\n  riverbed apps\n  riverbed apps ./app.py\n  riverbed apps shop.flows:app --json",
    )
    p.add_argument("ref", nargs="?", metavar="APP", help="describe only this app (a name, file or module)")
    p.add_argument("--json", action="store_true", help="one JSON object per app")
    p.set_defaults(func=run)


def describe(ref: str) -> dict:
    """An app as a JSON-ready dict: name, origin, and each pipeline's topics and outputs."""
    from riverbed.app import load_app

    app = load_app(ref)
    return {"app": app.name, "origin": app.origin, "description": app.description,
            "pipelines": [{"name": p.name, "topics": list(p.topics), "event_time": p.event_time,
                           "outputs": [{"name": o.name, "sink": o.sink, "keys": list(o.keys),
                                        "measures": dict(o.measures)} for o in p.outputs]}
                          for p in app.pipelines()]}


def run(args: argparse.Namespace) -> int:
    from riverbed.app import known_apps
    from riverbed.cli._common import emit, note, table
    from riverbed.errors import RiverbedError

    refs = [args.ref] if args.ref else sorted(known_apps())
    docs, failed = [], 0
    for ref in refs:
        try:
            docs.append(describe(ref))
        except RiverbedError as e:
            if args.ref:
                raise
            failed += 1
            note(f"riverbed: note: app {ref} cannot be loaded: {e}")
    if args.json:
        for d in docs:
            emit(json.dumps(d))
        return 0
    rows = [[d["app"], p["name"], ",".join(p["topics"]), " ".join(o["name"] for o in p["outputs"]),
             d["origin"]] for d in docs for p in d["pipelines"]]
    emit(table(["APP", "PIPELINE", "TOPICS", "OUTPUTS", "FROM"], rows))
    if not args.ref:
        note("run one with `riverbed run APP`; your own: `riverbed run app.py` (see docs/apps.md)")
    return 1 if failed else 0
