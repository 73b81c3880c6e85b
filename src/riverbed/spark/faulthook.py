"""Fault-injection points of the riverbed source (Jepsen-style), for tests that need an exact moment.

Option `faultHook` names a JSON file `{"hook": "module:function", ...}`. At each point the source
calls `function(plan, event, what)` in whatever process it runs in (the driver's source worker, an
executor): event "call" as a source method starts (what: initialOffset, latestOffset,
reportLatestOffset, prepareForTriggerAvailableNow, partitions, read, commit) and event "wait" before
each retry sleep (what: what was being done). `riverbed.testing.moments` freezes a broker this way.
Without the option nothing is read or imported.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from riverbed.spark.waits import OnWait


def fire(plan_path: str | None, event: str, what: str) -> None:
    """Run the hook the plan at `plan_path` names for (`event`, `what`); nothing without a plan."""
    if not plan_path:
        return
    plan = json.loads(Path(plan_path).read_text())
    module, _, name = plan["hook"].partition(":")
    getattr(importlib.import_module(module), name)(plan, event, what)


def on_wait(plan_path: str | None) -> OnWait | None:
    """A BrokerWait callback firing "wait" events at the plan's hook (None without a plan)."""
    if not plan_path:
        return None
    return lambda what, error, delay: fire(plan_path, "wait", what)
