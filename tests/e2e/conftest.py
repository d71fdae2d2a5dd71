"""Playwright driving Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("RENKEI_CHROMIUM", "/usr/bin/chromium"))
# Playwright's sync API runs an event loop in this thread; Django's guard against
# ORM calls from async code would otherwise trip on the live server's fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Offline and quiet: no update checks, syncing or QUIC probes leave the machine.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# Module scope: Playwright's sync API keeps an event loop running in this thread
# while it is open, which the asyncio tests of other modules cannot share.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()
