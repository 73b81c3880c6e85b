"""`riverbed new NAME`: write a small app project (app, test, sample data, README) that runs as is."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "new", help="start an app of your own: a project that runs and passes its test",
        description="Write NAME/ with app.py (a pipeline: total per user per minute from user,amount "
        "lines), tests/test_app.py, data/payments.csv, pyproject.toml and a README of its commands.",
        epilog="example:\n  riverbed new shop && cd shop && python -m pytest tests && riverbed run app.py",
    )
    p.add_argument("name", metavar="NAME", help="the app's name and folder")
    p.add_argument("--dir", default=".", metavar="DIR", help="where to create NAME/ (default: .)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from riverbed.app.scaffold import scaffold
    from riverbed.cli._common import note

    root = scaffold(args.name, Path(args.dir))
    note(f"created {root}/: app.py, tests/test_app.py, data/payments.csv, pyproject.toml, README.md")
    note(f"next: cd {root} && python -m pytest tests && riverbed run app.py (see its README)")
    return 0
