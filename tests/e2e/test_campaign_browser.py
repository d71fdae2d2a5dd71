"""An organizer creates a campaign, adds the invitation and sends it from a phone and a laptop; the counts move live."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings

from campaigns.models import Audience, CampaignMail, Delivery
from tests.campaigns.campaign_fixtures import contact
from tests.e2e.shapes import DESK, PHONE
from tests.factories import make_event, make_organization, make_staff, make_talk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def signed_in(browser: Any, base: str, shape: dict[str, Any]) -> Any:
    context = browser.new_context(**shape)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ja", "url": base}])
    page = context.new_page()
    page.goto(f"{base}/organizer/iwate/campaigns/")  # sends her to sign in, then back
    page.fill("#id_username", "hanako")
    page.fill("#id_password", "pw-hanako")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/organizer/iwate/campaigns/$"))
    return page


@pytest.mark.parametrize("shape_name", ["phone", "desk"])
def test_an_organizer_sends_an_invitation_and_watches_the_counts(browser, live_server, artifacts, shape_name):
    shape = {"phone": PHONE, "desk": DESK}[shape_name]
    organization = make_organization("iwate", make_staff("hanako", "organizer"), name="岩手医学会")
    event = make_event(organization=organization, title="岩手の秋の Web 講演会")
    make_talk(event)
    Audience.objects.create(organization=organization, name="岩手県の内科医")
    for name in ("sato", "suzuki", "takahashi"):
        contact(organization, f"{name}@clinic.example.jp")
    page = signed_in(browser, live_server.url, shape)

    page.click("text=新しいキャンペーン")
    page.fill("#id_name", "秋の講演会のご案内")
    page.fill("#id_slug", "autumn")
    page.select_option("#id_event", label=event.title)
    page.select_option("#id_audience", label="岩手県の内科医")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/organizer/iwate/campaigns/autumn/$"))

    page.click("text=メールを追加")
    page.select_option("#id_kind", "invitation")
    page.fill("#id_subject", "秋の Web 講演会のご案内")
    page.fill("#id_body", "先生方各位\n\n秋の講演会をご案内いたします。")
    page.screenshot(path=str(artifacts / f"campaign-mail-form-{shape_name}.png"), full_page=True)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/organizer/iwate/campaigns/autumn/$"))
    page.click("text=今すぐ送信")
    page.wait_for_selector("[data-field=sent]:text('3')")
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]

    # A second mail in the middle of its send: the page's counts follow the deliveries without a reload.
    mail = CampaignMail.objects.create(campaign=CampaignMail.objects.get().campaign, kind="reminder",
                                       subject="リマインド", body="本文", status=CampaignMail.Status.SENDING)
    rows = [Delivery.objects.create(mail=mail, email=f"r{n}@clinic.example.jp", prefecture_id="03")
            for n in range(2)]
    page.reload()
    row = f"[data-mail='{mail.pk}']"
    assert page.inner_text(f"{row} [data-field=remaining]") == "2"
    Delivery.objects.filter(pk=rows[0].pk).update(status=Delivery.Status.SENT)
    page.wait_for_selector(f"{row} [data-field=sent]:text('1')", timeout=10_000)
    assert page.inner_text(f"{row} [data-field=remaining]") == "1"
    page.screenshot(path=str(artifacts / f"campaign-{shape_name}.png"), full_page=True)


@pytest.mark.parametrize("shape_name", ["phone", "desk"])
def test_a_physician_unsubscribes_from_the_link_in_a_mail(browser, live_server, artifacts, shape_name):
    from campaigns.models import OptOut
    from tests.campaigns.campaign_fixtures import campaign_for, mail_of

    shape = {"phone": PHONE, "desk": DESK}[shape_name]
    organization = make_organization("iwate", name="岩手医学会")
    person = contact(organization, "sato@clinic.example.jp")
    delivery = Delivery.objects.create(mail=mail_of(campaign_for(make_event(organization=organization))),
                                       contact=person, email=person.email, prefecture_id=person.prefecture_id)
    context = browser.new_context(**shape)
    page = context.new_page()
    page.goto(f"{live_server.url}/unsubscribe/{delivery.token}/")
    page.screenshot(path=str(artifacts / f"unsubscribe-{shape_name}.png"), full_page=True)
    assert "岩手医学会" in page.inner_text("main") and "sato@clinic.example.jp" in page.inner_text("main")
    page.click("[data-unsubscribe]")
    page.wait_for_selector("[data-unsubscribed]")
    page.screenshot(path=str(artifacts / f"unsubscribed-{shape_name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    assert OptOut.objects.get().source == OptOut.Source.LINK
