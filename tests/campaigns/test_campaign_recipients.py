"""Who each kind of campaign mail goes to: consent, opt-outs, reminders and the follow-up segments."""

from __future__ import annotations

import pytest

from campaigns.models import CampaignMail
from campaigns.recipients import recipients
from tests.campaigns.campaign_fixtures import campaign_for, contact, mail_of, opt_out, segment_fixture
from tests.factories import make_event, make_organization, register

pytestmark = pytest.mark.django_db
Kind = CampaignMail.Kind


def addresses(mail: CampaignMail) -> set[str]:
    return {email.split("@")[0] for email in recipients(mail).values_list("email", flat=True)}


@pytest.mark.parametrize(("kind", "expected"), [
    (Kind.INVITATION, {"full", "brief", "peek", "absent", "stranger"}),
    (Kind.REMINDER, {"stranger"}),
    (Kind.ATTENDED, {"full", "brief"}),
    (Kind.NO_SHOW, {"peek", "absent"}),
    (Kind.LEFT_EARLY, {"brief"}),
    (Kind.RECEPTION, {"full"}),
])
def test_each_kind_of_mail_reaches_its_segment_and_never_the_unconsented_or_opted_out(kind, expected):
    scene = segment_fixture()
    assert addresses(mail_of(scene["campaign"], kind)) == expected


def test_a_reminder_skips_a_contact_who_registered_after_the_invitation():
    organization = make_organization()
    event = make_event(organization=organization)
    contact(organization, "early@clinic.example.jp")
    contact(organization, "later@clinic.example.jp")
    reminder = mail_of(campaign_for(event), Kind.REMINDER)
    assert addresses(reminder) == {"early", "later"}
    register(event, email="early@clinic.example.jp")
    assert addresses(reminder) == {"later"}


def test_a_cancelled_registration_still_gets_the_reminder():
    organization = make_organization()
    event = make_event(organization=organization)
    contact(organization, "changed-mind@clinic.example.jp")
    registration = register(event, email="changed-mind@clinic.example.jp")
    registration.status = registration.Status.CANCELLED
    registration.save(update_fields=["status"])
    assert addresses(mail_of(campaign_for(event), Kind.REMINDER)) == {"changed-mind"}


def test_an_opt_out_in_another_organization_does_not_stop_this_organizations_mail():
    organization = make_organization()
    other = make_organization("other-society")
    contact(organization, "both@clinic.example.jp")
    opt_out(other, "both@clinic.example.jp")
    assert addresses(mail_of(campaign_for(make_event(organization=organization)))) == {"both"}
