"""Loading an app by reference, the same way for every command: a file, a module, or a bare name.

    riverbed run app.py                 the module's single pipeline (or its `app` / `pipeline`)
    riverbed run app.py:orders          an attribute: a Pipeline, a factory of one, or an App
    riverbed run shop.flows:app         an importable module, then the attribute
    riverbed run logwatch               a bare name: an app registered in this process, listed in
                                        ./pyproject.toml [tool.riverbed] or ./riverbed.toml, or
                                        installed under the entry-point group `riverbed.apps`

A reference that cannot be loaded raises `AppLoadError` (exit status 2 in the CLI) with one line
saying what was wrong and, for an error in the user's own module, their traceback trimmed to their
frames. Files are imported under a private module name and pickled by value, so Spark's Python
workers never need the file on their path.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from riverbed.app.definition import App
from riverbed.app.discovery import KnownApp, known_apps
from riverbed.errors import InvalidArgument, RiverbedError
from riverbed.pipeline.definition import Pipeline

HINT = "an app reference is PATH.py[:ATTR], package.module[:ATTR] or a name from `riverbed apps`"


class AppLoadError(InvalidArgument):
    """An app reference that cannot be loaded; `detail` holds the user's trimmed traceback, if any."""

    exit_status = 2

    def __init__(self, message: str, *, hint: str | None = HINT, detail: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.detail = detail


@dataclass(frozen=True)
class LoadedApp:
    """An app as found: its name, its pipelines (or factories) and where it came from."""

    name: str
    entries: tuple[Pipeline | Callable[..., Pipeline], ...]
    origin: str
    description: str = ""

    def pipelines(self) -> list[Pipeline]:
        """Every pipeline of the app, built with its default options."""
        return [build(e, where=self.origin) for e in self.entries]

    def pick(self, name: str | None) -> Pipeline | Callable[..., Pipeline]:
        """The app's only pipeline, or the one called `name`."""
        if name is None and len(self.entries) == 1:
            return self.entries[0]
        built = {p.name: e for p, e in zip(self.pipelines(), self.entries, strict=True)}
        if name in built:
            return built[name]
        raise AppLoadError(
            f"app {self.name} has {len(built)} pipelines ({', '.join(built)}): name one"
            if name is None else f"app {self.name} has no pipeline {name!r} (it has {', '.join(built)})",
            hint=f"e.g. `riverbed run {next(iter(built))}` or REF:ATTR for one pipeline object")


def load_app(ref: str) -> LoadedApp:
    """The app that `ref` names (see the module docstring); AppLoadError when it cannot be loaded."""
    ref = ref.strip()
    if not ref:
        raise AppLoadError("no app named: the reference is empty")
    target, _, attr = ref.partition(":")
    if _is_pathlike(target):
        return _from_file(Path(target), attr or None)
    if not attr:
        known = known_apps()
        if target in known:
            return _from_known(known[target])
        found = _by_pipeline_name(target, known)
        if found is not None:
            return found
    if not all(part.isidentifier() for part in target.split(".")):
        raise AppLoadError(f"no app named {target!r}",
                           hint=f"known apps: {', '.join(sorted(known_apps())) or 'none'}; {HINT}")
    try:
        module = _import_module(target)
    except ModuleNotFoundError as e:
        if e.name is not None and target.startswith(e.name):  # the reference itself, not an import inside it
            known_names = ", ".join(sorted(known_apps())) or "none"
            raise AppLoadError(f"no app or module named {target!r}",
                               hint=f"known apps: {known_names}; a file needs its .py, e.g. ./{target}.py"
                               ) from None
        raise _user_error(f"cannot import {target}", e, None) from None
    return _from_module(module, attr or None, f"module {target}")


def load_pipeline(ref: str | os.PathLike[str] | Pipeline, *, context: Mapping[str, object] | None = None,
                  **options: object) -> Pipeline:
    """The pipeline `ref` names (a reference, a path, or a Pipeline), built with `options` (e.g.
    topic="logs"); `context` entries (e.g. model_home) go to a factory only if it takes them."""
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    if isinstance(ref, Pipeline):
        return build(ref, options=options, context=context, where=f"pipeline {ref.name}")
    app = load_app(ref)  # REF:NAME and a bare pipeline name have already narrowed it to one entry
    return build(app.pick(None), options=options, context=context, where=app.origin)


def pipeline_name(ref: str) -> str:
    """The name the pipeline's state is kept under. A file, a module or a known app's name is loaded
    to learn it; any other bare name is the name itself, and no code is imported to check it (the
    dashboard asks this for pipelines whose code it must never load; their app may also be gone
    while their versions and outputs remain)."""
    if _is_pathlike(ref.partition(":")[0]) or ":" in ref or ref in known_apps():
        return load_pipeline(ref).name
    return ref


def build(entry: Pipeline | Callable[..., Pipeline], *, options: Mapping[str, object] | None = None,
          context: Mapping[str, object] | None = None, where: str = "") -> Pipeline:
    """A Pipeline from a pipeline or a factory, with `options` applied (a Pipeline takes `topic`)."""
    options = dict(options or {})
    if isinstance(entry, Pipeline):
        topic = options.pop("topic", None)
        if options:
            raise InvalidArgument(f"pipeline {entry.name} takes no option {next(iter(options))!r}",
                                  hint="only `topic` applies to a Pipeline object; write a factory "
                                  "function taking keyword options for more")
        return replace(entry, topics=[str(topic)]) if topic else entry
    if not callable(entry):
        raise AppLoadError(f"{where}: {entry!r} is not a Pipeline nor a factory of one")
    try:
        params = inspect.signature(entry).parameters
    except (TypeError, ValueError):
        params = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in options if k not in params and not takes_any]
    if unknown:
        raise InvalidArgument(f"pipeline factory {_qualname(entry)} takes no option {unknown[0]!r}",
                              hint=f"its options: {', '.join(params) or 'none'}")
    extra = {k: v for k, v in (context or {}).items() if (k in params or takes_any) and k not in options}
    try:
        pipeline = entry(**options, **extra)
    except RiverbedError:
        raise
    except Exception as e:
        raise _user_error(f"{_qualname(entry)}() failed", e, None) from None
    if not isinstance(pipeline, Pipeline):
        raise AppLoadError(f"{_qualname(entry)}() returned {type(pipeline).__name__}, not a Pipeline",
                           hint="a factory returns riverbed.Pipeline(...)")
    return pipeline


def _is_pathlike(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _from_file(path: Path, attr: str | None) -> LoadedApp:
    return _from_module(_import_file(path), attr, f"file {path.expanduser().resolve()}")


def _from_known(known: KnownApp) -> LoadedApp:
    """A registered, configured or installed app; a configured path is relative to its config file."""
    if known.obj is not None:
        app = _as_app(known.obj, known.name, known.origin)
        return LoadedApp(known.name, app.entries, known.origin, app.description)
    target, _, attr = known.target.partition(":")
    if _is_pathlike(target):
        app = _from_file(known.base / target, attr or None)
        origin = f"{known.origin} -> {app.origin}"
    else:
        app = _from_module(_import_module(target), attr or None, f"module {target}")
        origin = known.origin
    return LoadedApp(known.name, app.entries, origin, app.description)


def _by_pipeline_name(name: str, known: Mapping[str, KnownApp]) -> LoadedApp | None:
    """The known app holding a pipeline called `name` (an app may be named apart from its pipelines)."""
    for k in known.values():
        try:
            app = _from_known(k)
            if any(p.name == name for p in app.pipelines()):
                return LoadedApp(app.name, tuple(e for p, e in zip(app.pipelines(), app.entries, strict=True)
                                                 if p.name == name), app.origin, app.description)
        except RiverbedError:
            continue
    return None


def _from_module(module: ModuleType, attr: str | None, origin: str) -> LoadedApp:
    """The app a module holds: `attr`, else its `app`, `pipeline`, or its single App or Pipeline."""
    if attr is not None:
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                return _pipeline_by_name_in(module, attr, origin)
            obj = getattr(obj, part)
        return _as_app(obj, attr, origin)
    for candidate in ("app", "pipeline"):
        if hasattr(module, candidate):
            return _as_app(getattr(module, candidate), candidate, origin)
    apps = [v for v in vars(module).values() if isinstance(v, App)]
    pipes = [v for v in vars(module).values() if isinstance(v, Pipeline)]
    if len(apps) == 1:
        return _as_app(apps[0], apps[0].name, origin)
    if not apps and len(pipes) == 1:
        return _as_app(pipes[0], pipes[0].name, origin)
    found = ", ".join([a.name for a in apps] + [p.name for p in pipes]) or "none"
    raise AppLoadError(f"{origin} holds {len(apps) + len(pipes)} apps or pipelines ({found})",
                       hint="name one as REF:ATTR, or define `app = App(...)` / `pipeline = Pipeline(...)`")


def _pipeline_by_name_in(module: ModuleType, attr: str, origin: str) -> LoadedApp:
    """REF:NAME where NAME is a pipeline's name (not an attribute) in the module's app."""
    for candidate in ("app", *(k for k, v in vars(module).items() if isinstance(v, App))):
        holder = getattr(module, candidate, None)
        if isinstance(holder, App):
            app = _as_app(holder, candidate, origin)
            return LoadedApp(app.name, (app.pick(attr),), origin, app.description)
    public = sorted(k for k, v in vars(module).items()
                    if isinstance(v, App | Pipeline) or (inspect.isfunction(v) and not k.startswith("_")))
    raise AppLoadError(f"{origin} has no attribute {attr!r}",
                       hint=f"it has: {', '.join(public) or 'nothing'}")


def _as_app(obj: Any, attr: str, origin: str) -> LoadedApp:
    if isinstance(obj, App):
        return LoadedApp(obj.name, tuple(obj.pipelines), origin, obj.description)
    if isinstance(obj, Pipeline):
        return LoadedApp(obj.name, (obj,), origin, obj.description)
    if callable(obj) and not isinstance(obj, type):
        required = [p for p in _params(obj) if p.default is inspect.Parameter.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required:
            raise AppLoadError(f"{origin}: {attr}() needs arguments ({', '.join(p.name for p in required)})",
                               hint="a factory is called with no arguments (or only keyword options)")
        made = build(obj, where=origin) if not _returns_app(obj) else obj()
        if isinstance(made, App):
            return _as_app(made, attr, origin)
        return LoadedApp(made.name, (obj,), origin, made.description)
    raise AppLoadError(f"{origin}: {attr} is a {type(obj).__name__}, not a Pipeline, an App or a factory",
                       hint="riverbed.Pipeline(...), riverbed.App(...), or a function returning one")


def _params(obj: Any) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return []


def _returns_app(obj: Any) -> bool:
    hints = getattr(obj, "__annotations__", {})
    return hints.get("return") in (App, "App")


def _import_module(target: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError:
        raise
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        raise _user_error(f"cannot import {target}", e, None) from None


def _import_file(path: Path) -> ModuleType:
    """Import a Python file under a private name (its folder first on sys.path, as `python FILE`)."""
    path = path.expanduser()
    if not path.is_file():
        raise AppLoadError(f"no such file: {path}" if not path.exists() else f"{path} is not a file",
                           hint="check the path; an app file is a Python module holding a riverbed.Pipeline")
    path = path.resolve()
    name = f"riverbed_app_{_safe_stem(path.stem)}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        del sys.modules[name]
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        raise _user_error(f"cannot import {path.name}", e, path) from None
    _pickle_by_value(module)
    return module


def _safe_stem(stem: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in stem)[:40]


def _pickle_by_value(module: ModuleType) -> None:
    """Spark ships the user's functions (UDFs, foreachBatch) to its workers by value."""
    try:
        from pyspark import cloudpickle
    except ImportError:  # pragma: no cover - pyspark is a dependency
        return
    cloudpickle.register_pickle_by_value(module)


_OUR_FILES = (str(Path(__file__).resolve().parents[1]), "<frozen importlib")


def _user_error(what: str, error: BaseException, path: Path | None) -> AppLoadError:
    """One line for the error, and the traceback trimmed to the user's frames as its detail."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(_OUR_FILES) and "importlib" not in f.filename]
    where = ""
    if isinstance(error, SyntaxError) and error.lineno:
        where = f" ({Path(error.filename or '?').name} line {error.lineno})"
    elif frames:
        where = f" ({Path(frames[-1].filename).name} line {frames[-1].lineno})"
    detail = "".join(["Traceback (your code):\n", *traceback.format_list(frames),
                      *traceback.format_exception_only(type(error), error)]) if frames or isinstance(
                          error, SyntaxError) else None
    first = str(error).splitlines()[0] if str(error) else ""
    return AppLoadError(f"{what}: {type(error).__name__}: {first}{where}",
                        hint="fix the error shown above in your code and run again", detail=detail)
