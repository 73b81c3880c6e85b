"""Apps: loading one by reference (a file, a module, a bare name), and what an app is.

`riverbed run app.py`, `riverbed run shop.flows:app` and `riverbed run logwatch` all end here; the
built-in apps are found the way an installed package's are, through entry points in group
`riverbed.apps` (see discovery.py).
"""

from riverbed.app.definition import App
from riverbed.app.discovery import GROUP, KnownApp, known_apps, register
from riverbed.app.loader import AppLoadError, LoadedApp, build, load_app, load_pipeline, pipeline_name

__all__ = ["GROUP", "App", "AppLoadError", "KnownApp", "LoadedApp", "build", "known_apps", "load_app",
           "load_pipeline", "pipeline_name", "register"]
