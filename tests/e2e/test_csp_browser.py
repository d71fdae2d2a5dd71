"""Every main page works under the Content-Security-Policy: Chromium reports no violation and no error.

The server runs in the production shape (DEBUG off), so the policy is the one deployed. A
violation shows up twice: as a ``securitypolicyviolation`` event in the page and as a console
error; both are collected from the first script on, and any of them fails the test with the
page and the blocked source named.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from events.joinlinks import join_url
from events.management.commands.load_demo import DEMO_SLUG, ORGANIZER, TALKS
from events.models import Registration, Talk
from rooms.lecture.stage import go_live
from tests.e2e.shapes import CSP_VIOLATIONS, DESK, server_env
from tests.servers import daphne, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.services]

PLAYING = "() => { const v = document.querySelector('[data-stream] video'); return v && v.currentTime > 1 && !v.paused; }"


class Watched:
    """A browser context whose pages' violations, console errors and uncaught exceptions are kept."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(**DESK)
        self.context.add_init_script(CSP_VIOLATIONS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        self.base = base

    def console(self, message: Any) -> None:
        # Chromium asks every site for /favicon.ico, which Renkei does not serve: not a page's fault.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def visit(self, path: str, ready: str | None = None) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        if ready:
            self.page.wait_for_selector(ready, timeout=20_000)

    def violations(self) -> list[str]:
        """What went wrong since the last call (each page is judged on its own)."""
        found = list(self.page.evaluate("window.__violations || []")) + self.problems
        self.page.evaluate("window.__violations = []")
        self.problems = []
        return found

    def sign_in(self, username: str, password: str) -> None:
        self.visit("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_load_state()


def test_the_main_pages_run_under_the_policy_without_a_violation(browser, postgres_url, redis_url, artifacts, settings):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.SITE_URL = base  # the demo's stream URL is on the site, as under the run command
    call_command("load_demo", stdout=StringIO())
    talk = Talk.objects.get(event__slug=DEMO_SLUG, title=TALKS[0][0])
    go_live(talk)
    physician = Registration.objects.filter(event=talk.event, status=Registration.Status.APPROVED).first()
    found: dict[str, list[str]] = {}
    with daphne({**server_env(postgres_url, redis_url), "SITE_URL": base}, port):
        visitor = Watched(browser, base)
        for name, path in (("home", "/"), ("event", f"/events/{DEMO_SLUG}/"),
                           ("registration", f"/events/{DEMO_SLUG}/register/")):
            visitor.visit(path)
            assert visitor.page.evaluate("document.querySelector('meta') !== null")
            found[name] = visitor.violations()
        visitor.context.close()

        doctor = Watched(browser, base)
        doctor.visit("/" + join_url(physician).split("/", 3)[3])
        found["lobby"] = doctor.violations()
        doctor.visit(f"/talks/{talk.pk}/", ready="text=接続しました")
        doctor.page.wait_for_function(PLAYING, timeout=30_000)  # HLS through hls.js, its worker and blob: media
        doctor.page.screenshot(path=str(artifacts / "csp-lecture-room.png"))
        found["lecture room"] = doctor.violations()
        doctor.visit(f"/events/{DEMO_SLUG}/my-data/")
        found["my data"] = doctor.violations()
        doctor.visit(f"/events/{DEMO_SLUG}/my-data/delete/")
        found["my data, delete"] = doctor.violations()
        doctor.context.close()

        organizer = Watched(browser, base)
        organizer.sign_in(*ORGANIZER)
        organizer.visit("/admin/")
        found["admin"] = organizer.violations()
        organizer.visit(f"/organizer/events/{DEMO_SLUG}/dashboard/", ready="#dash-map canvas")
        # ECharts' tooltips are HTML it writes itself (markers with style attributes): hover to show one.
        box = organizer.page.locator("#dash-map canvas").first.bounding_box()
        organizer.page.mouse.move(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.45)
        organizer.page.locator("#dash-map div", has_text="登録者:").last.wait_for()
        organizer.page.screenshot(path=str(artifacts / "csp-dashboard.png"))
        found["dashboard"] = organizer.violations()
        organizer.visit(f"/talks/{talk.pk}/console/", ready="text=接続しました")
        organizer.page.wait_for_load_state("networkidle")
        organizer.page.screenshot(path=str(artifacts / "csp-console.png"))
        found["console"] = organizer.violations()
        organizer.visit(f"/admin/events/talk/{talk.pk}/change/")
        found["admin talk"] = organizer.violations()
        # The watch itself works: an injected inline script is refused and reported.
        organizer.page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                                " document.body.append(s); }")
        organizer.page.wait_for_function("() => window.__violations.length > 0")
        assert organizer.page.evaluate("window.ran") is None
        assert "script-src-elem blocked inline" in organizer.violations()[0]
        organizer.context.close()

    assert {page: problems for page, problems in found.items() if problems} == {}
