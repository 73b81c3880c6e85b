"""Browser tests: a real headless Chromium (Debian's `chromium`) driven by Playwright's Python package.

Set-up installs what is missing: as root, `apt-get update && apt-get install -y chromium` when
/usr/bin/chromium is absent. Without root (or without Playwright) the browser tests skip with a
message saying so; CI (where $CI is set) fails instead of skipping, so they always run there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


def _install_chromium() -> str | None:
    """Install Debian's chromium when missing; returns why it could not, or None."""
    if Path(CHROMIUM).exists():
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return (f"{CHROMIUM} is missing and installing it needs root: run "
                "`sudo apt-get install -y chromium` to enable the browser tests")
    if shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and there is no apt-get to install it with"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"`{' '.join(cmd)}` failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
    return None if Path(CHROMIUM).exists() else f"apt-get installed chromium but {CHROMIUM} is still missing"


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session (installed first if needed and possible)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is not installed (pip install playwright)")
    why = _install_chromium()
    if why:
        _unavailable(why)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
