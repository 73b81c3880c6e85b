"""Kept only because docs/deploy.md documented `riverbed.storage.configure`: lake and checkpoint
locations live in `riverbed.pipeline.locations`; new code imports them from there."""

from riverbed.pipeline.locations import configure

__all__ = ["configure"]
