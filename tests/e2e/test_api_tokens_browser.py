"""An organizer revokes their CRM's API token in the admin, on a phone and a laptop; the token stops working."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from campaigns.models import ApiToken
from campaigns.services import do_create_api_token
from tests.e2e.shapes import DESK, PHONE
from tests.factories import make_organization, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("shape_name,shape", [("phone", PHONE), ("desk", DESK)])
def test_an_organizer_revokes_their_token_in_japanese_and_never_sees_a_secret(browser, live_server, artifacts,
                                                                               shape_name, shape):
    hanako = make_staff("hanako", "organizer")
    iwate = make_organization("iwate", hanako, name="岩手医学会")
    token, secret = do_create_api_token(iwate, "Salesforce 連携")
    _theirs, _their_secret = do_create_api_token(make_organization("miyagi", name="宮城医学会"), "HubSpot")

    page = browser.new_context(**shape).new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/campaigns/apitoken/")
    page.fill("#id_username", "hanako")
    page.fill("#id_password", "pw-hanako")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/campaigns/apitoken/$"))
    page.screenshot(path=str(artifacts / f"admin-api-tokens-{shape_name}.png"), full_page=True)
    listing = page.locator("#changelist").inner_text()
    assert token.prefix in listing and "Salesforce 連携" in listing and "API トークン" in page.content()
    assert "HubSpot" not in listing and secret not in page.content() and token.secret_hash not in page.content()

    page.check(f"input[name=_selected_action][value='{token.pk}']")
    page.select_option("select[name=action]", "revoke")
    page.click("button[name=index]")
    page.wait_for_selector("text=API トークンを 1 件無効にしました。")
    page.screenshot(path=str(artifacts / f"admin-api-tokens-revoked-{shape_name}.png"), full_page=True)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Client().get("/api/v1/events/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
