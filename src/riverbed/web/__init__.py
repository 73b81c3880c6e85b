"""The dashboard: a local web page with live charts of each app and of the platform itself, and a
JSON API under /api for every number on it (`riverbed serve`, or started by `riverbed demo`)."""

from __future__ import annotations

from riverbed.web.server import DEFAULT_PORT, DashboardServer, serve_in_thread

__all__ = ["DEFAULT_PORT", "DashboardServer", "create_app", "serve_in_thread"]


def __getattr__(name: str):
    if name == "create_app":  # FastAPI is imported only when the app is built
        from riverbed.web.app import create_app

        return create_app
    raise AttributeError(name)
