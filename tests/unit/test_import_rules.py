"""The import rules of DESIGN.md ("Apps stand on the platform, never inside it"), kept over the graph.

Every module of src/riverbed is read with `ast` (no import runs): `import x`, `from x import y` and
relative imports (resolved), at top level and inside functions, classes and `if TYPE_CHECKING:`.
- nothing outside riverbed/apps/ imports riverbed.apps (direct imports; see PENDING_APP_IMPORTS);
- riverbed.log imports neither pyspark, riverbed.spark nor riverbed.store, not even through other
  riverbed modules (the transitive closure, package __init__s included: importing a.b runs a);
- riverbed.connectors imports no pyspark, riverbed.spark or riverbed.apps, transitively too;
- riverbed.web imports no riverbed.apps, transitively too.
A failure names the importing file and line, the imported module, and the chain that reached it.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: CLI files that still import an app, being moved out of cli/ (issue 19). This list must shrink to
#: empty: remove a file from it when it stops importing riverbed.apps (a test below insists).
PENDING_APP_IMPORTS: frozenset[str] = frozenset()

#: package -> what it must not import, directly or through other riverbed modules.
CLOSURE_RULES: dict[str, tuple[str, ...]] = {
    "riverbed.log": ("pyspark", "riverbed.spark", "riverbed.store"),
    "riverbed.connectors": ("pyspark", "riverbed.spark", "riverbed.apps"),
    "riverbed.web": ("riverbed.apps",),
}


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module: who imports it (module, file relative to the source root, line)."""

    importer: str
    file: str
    line: int
    target: str

    def where(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


@dataclass
class Graph:
    """Every module under a source root and the imports each makes."""

    files: dict[str, str]  # module -> file relative to the source root
    imports: dict[str, list[Import]]


def module_of(root: Path, path: Path) -> tuple[str, bool]:
    """The dotted module name of `path` under `root`, and whether it is a package (__init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute module a relative `from` names (`level` dots, then `name`)."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def scan(root: Path, top: str = "riverbed") -> Graph:
    """Read every module of package `top` under `root` (a src/ directory) and list its imports."""
    files: dict[str, str] = {}
    trees: dict[str, tuple[ast.AST, bool]] = {}
    for path in sorted((root / top).rglob("*.py")):
        module, is_package = module_of(root, path)
        files[module] = path.relative_to(root).as_posix()
        trees[module] = (ast.parse(path.read_text(encoding="utf-8"), str(path)), is_package)
    imports: dict[str, list[Import]] = {}
    for module, (tree, is_package) in trees.items():
        found = imports.setdefault(module, [])
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module) if node.level else node.module
                assert base is not None
                # `from pkg import sub` imports the module pkg.sub when there is one, else a name of pkg
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            found += [Import(module, files[module], node.lineno, t) for t in dict.fromkeys(targets)]
    return Graph(files, imports)


def _matches(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def _executed(graph: Graph, target: str) -> list[str]:
    """The riverbed modules importing `target` runs: it and every package above it."""
    parts = target.split(".")
    return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in graph.files]


def app_import_violations(graph: Graph, pending: frozenset[str] = frozenset()) -> list[str]:
    """Imports of riverbed.apps from modules outside riverbed.apps, except in the `pending` files."""
    return [
        imp.where()
        for module, found in graph.imports.items()
        if not _matches(module, "riverbed.apps") and graph.files[module] not in pending
        for imp in found
        if _matches(imp.target, "riverbed.apps")
    ]


def closure_violations(graph: Graph, package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Forbidden imports made by `package` or by any riverbed module it imports, however deep."""
    starts = [m for m in graph.files if _matches(m, package)]
    start_set = {s for m in starts for s in _executed(graph, m)}
    via: dict[str, Import | None] = dict.fromkeys(start_set)
    queue = deque(start_set)
    while queue:
        module = queue.popleft()
        for imp in graph.imports.get(module, []):
            for reached in _executed(graph, imp.target):
                if reached not in via:
                    via[reached] = imp
                    queue.append(reached)
    out = []
    for module in sorted(via):
        if any(_matches(module, f) for f in forbidden):
            continue  # inside a forbidden package: the import that reached it is the one reported
        for imp in graph.imports.get(module, []):
            if any(_matches(imp.target, f) for f in forbidden):
                chain, step = [], via[module]
                while step is not None:
                    chain.append(step.where())
                    step = via[step.importer]
                how = f" (reached from {package} by: {' <- '.join(chain)})" if chain else ""
                out.append(f"{package} must not import {imp.target}: {imp.where()}{how}")
    return out


@pytest.fixture(scope="module")
def graph() -> Graph:
    return scan(SRC)


def test_nothing_outside_apps_imports_an_app(graph: Graph) -> None:
    found = app_import_violations(graph, PENDING_APP_IMPORTS)
    assert not found, "the platform imports an app:\n" + "\n".join(found)


def test_pending_app_imports_only_shrinks(graph: Graph) -> None:
    """Every allowlisted file exists and still imports an app: fixed ones must leave the list."""
    still = {v.split(":")[0] for v in app_import_violations(graph)}
    stale = sorted(PENDING_APP_IMPORTS - still)
    assert not stale, f"no longer import riverbed.apps, remove from PENDING_APP_IMPORTS: {stale}"


@pytest.mark.parametrize("package", sorted(CLOSURE_RULES))
def test_layer_imports_stay_in_their_lane(graph: Graph, package: str) -> None:
    assert any(_matches(m, package) for m in graph.files), f"{package} not found under {SRC}"
    found = closure_violations(graph, package, CLOSURE_RULES[package])
    assert not found, "\n".join(found)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_reports_what_breaks_the_rules(tmp_path: Path) -> None:
    write(tmp_path, {
        "riverbed/__init__.py": "",
        "riverbed/apps/__init__.py": "",
        "riverbed/apps/bitcoin.py": "import riverbed.log\n",  # an app may import the platform
        "riverbed/log/__init__.py": "from .helpers import tidy\n",
        "riverbed/log/helpers.py": "import os\n\n\ndef tidy():\n    from ..util import strip\n",
        "riverbed/util.py": "from . import deep\n",
        "riverbed/deep.py": "def strip():\n    import pyspark.sql\n",
        "riverbed/store/__init__.py": "",
        "riverbed/connectors/__init__.py": "",
        "riverbed/connectors/coin.py": "if True:\n    from riverbed.apps import bitcoin\n",
        "riverbed/web/__init__.py": "from riverbed import apps\n",
        "riverbed/cli/__init__.py": "",
        "riverbed/cli/old.py": "from riverbed.apps.bitcoin import x\n",
    })
    g = scan(tmp_path)
    assert app_import_violations(g) == [
        "riverbed/cli/old.py:1 imports riverbed.apps.bitcoin",
        "riverbed/connectors/coin.py:2 imports riverbed.apps.bitcoin",
        "riverbed/web/__init__.py:1 imports riverbed.apps",
    ]
    assert app_import_violations(g, frozenset({"riverbed/cli/old.py"}))[0].startswith("riverbed/connectors")
    assert closure_violations(g, "riverbed.log", CLOSURE_RULES["riverbed.log"]) == [
        "riverbed.log must not import pyspark.sql: riverbed/deep.py:2 imports pyspark.sql (reached from "
        "riverbed.log by: riverbed/util.py:1 imports riverbed.deep <- "
        "riverbed/log/helpers.py:5 imports riverbed.util)"
    ]
    found = closure_violations(g, "riverbed.connectors", CLOSURE_RULES["riverbed.connectors"])
    assert [v.split(" (reached")[0] for v in found] == [  # the app, and Spark through the app and the log
        "riverbed.connectors must not import riverbed.apps.bitcoin: riverbed/connectors/coin.py:2 imports "
        "riverbed.apps.bitcoin",
        "riverbed.connectors must not import pyspark.sql: riverbed/deep.py:2 imports pyspark.sql",
    ]
    assert [v.split(": ")[1] for v in closure_violations(g, "riverbed.web", ("riverbed.apps",))] == [
        "riverbed/web/__init__.py:1 imports riverbed.apps"
    ]
