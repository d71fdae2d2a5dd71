"""A talk one may not see and a talk that does not exist show the same page, on a phone and on a desk."""

from __future__ import annotations

import pytest

from tests.e2e.shapes import DESK, PHONE, server_env
from tests.factories import make_event, make_talk
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_a_hidden_talk_and_a_missing_one_look_the_same_and_say_how_to_get_in(browser, postgres_url, redis_url,
                                                                             artifacts):
    talk = make_talk(make_event(title="非公開の講演会", is_published=False), title="まだ秘密の講演")
    with daphne(server_env(postgres_url, redis_url)) as base:
        for name, shape in (("phone", PHONE), ("desktop", {**DESK, "viewport": {"width": 1280, "height": 800}})):
            page = browser.new_context(**shape).new_page()
            texts = []
            for talk_id in (talk.pk, talk.pk + 1_000_000):
                response = page.goto(f"{base}/talks/{talk_id}/")
                assert response is not None and response.status == 404
                texts.append(page.locator("main").inner_text())
            assert texts[0] == texts[1]
            assert "このページは表示できません" in texts[0] and "非公開の講演会" not in texts[0]
            page.screenshot(path=str(artifacts / f"talk-unavailable-{name}.png"), full_page=True)
            page.context.close()
