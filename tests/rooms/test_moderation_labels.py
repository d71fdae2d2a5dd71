"""Every moderation action the services log has a label in the admin's moderation log."""

from __future__ import annotations

import re
from pathlib import Path

from rooms.admin import MODERATION_ACTIONS

ROOMS = Path(__file__).resolve().parents[2] / "rooms"


def test_every_logged_moderation_action_is_named_in_the_admin_and_not_shown_as_a_code():
    source = "\n".join(path.read_text() for path in ROOMS.rglob("*.py"))
    logged = set(re.findall(r'_log\(\s*talk,\s*participant,\s*"([a-z_.]+)"', source))
    logged |= set(re.findall(r'ModerationLog\.objects\.create\([^)]*action="([a-z_.]+)"', source))
    assert "person.remove" in logged and "slides.approve" in logged, "the scan found the logged actions"
    assert logged <= set(MODERATION_ACTIONS), sorted(logged - set(MODERATION_ACTIONS))
