"""What the browser tests share: device shapes, the server environment, the console sign-in."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


# An init script: keeps every Content-Security-Policy violation the page reports in window.__violations
# (tests/e2e/test_csp_browser.py; the table call checks Janus's origin is allowed with it).
CSP_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def server_env(postgres_url: str, redis_url: str) -> dict[str, str]:
    """The production shape for tests.servers.daphne, with this test's own channel-layer prefix."""
    return {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "SECRET_KEY": settings.SECRET_KEY,
            "CHANNEL_LAYER_PREFIX": f"renkei-test-{uuid.uuid4().hex[:8]}", "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "0", "DB_CONN_MAX_AGE": "0", "MEDIA_ROOT": str(settings.MEDIA_ROOT)}


def open_dashboard(browser: Any, base: str, shape: dict[str, Any], slug: str, username: str, password: str,
                   language: str = "ja") -> Any:
    """An event's regional dashboard in a new browser of ``shape``, signed in, in ``language``."""
    return organizer_page(browser, base, shape, language, f"/organizer/events/{slug}/dashboard/", (username, password))


def open_console(browser: Any, base: str, talk_id: int, username: str, password: str) -> Any:
    """A speaker's desktop page on the talk's console, signed in and connected."""
    desk = browser.new_context(**DESK).new_page()
    desk.goto(f"{base}/admin/login/?next=/talks/{talk_id}/console/")
    desk.fill("#id_username", username)
    desk.fill("#id_password", password)
    desk.click("input[type=submit]")
    desk.wait_for_selector("text=接続しました")
    return desk


def organizer_page(browser: Any, base: str, shape: dict[str, Any], language: str, path: str,
                   credentials: tuple[str, str]) -> Any:
    """A page of ``shape`` in ``language``, signed in through the admin's login form and landed on ``path``."""
    context = browser.new_context(**shape)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/admin/login/?next={path}")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    return page


def map_painted(selector: str) -> str:
    """A JS predicate: the map canvas in ``selector`` has Japan drawn (many pixels not background)."""
    return f"""() => {{
    const c = document.querySelector('{selector} canvas');
    if (!c) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {{ if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240)) n++; }}
    return n >= 5000; }}"""


# True once Japan is drawn on the dashboard's map.
MAP_PAINTED = map_painted("#dash-map")
