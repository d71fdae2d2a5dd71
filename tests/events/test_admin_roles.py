"""Organizers manage their own events' registrations; speakers and physicians see none."""

from __future__ import annotations

import csv
import io

import pytest

from events.models import Event, Registration
from tests.factories import register, rival_events

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/events/registration/"


@pytest.fixture
def setup():
    scene = rival_events(approval_mode=Event.ApprovalMode.MANUAL)
    scene["my_regs"] = [register(scene["mine"], full_name=f"自分 {i}") for i in range(3)]
    scene["their_reg"] = register(scene["theirs"], full_name="他人 太郎")
    return scene


def test_an_organizer_sees_only_their_events_registrations(client, setup):
    client.force_login(setup["alice"])
    page = client.get(CHANGELIST).content.decode()
    assert "自分 0" in page and "自分 2" in page
    assert "他人 太郎" not in page
    other = setup["their_reg"]
    assert client.get(f"{CHANGELIST}{other.pk}/change/").status_code in (302, 404)


def test_an_organizer_cannot_act_on_another_events_registrations_by_id(client, setup):
    client.force_login(setup["alice"])
    other = setup["their_reg"]
    client.post(CHANGELIST, {"action": "reject", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.status == Registration.Status.APPROVED


def test_an_organizer_approves_in_bulk_and_each_physician_gets_a_link(client, setup, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(setup["alice"])
    ids = [r.pk for r in setup["my_regs"][:2]]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {"action": "approve", "_selected_action": ids})
    assert response.status_code == 302
    statuses = dict(Registration.objects.filter(event=setup["mine"]).values_list("pk", "status"))
    assert [statuses[i] for i in ids] == ["approved", "approved"]
    assert statuses[setup["my_regs"][2].pk] == "pending"
    assert len(mailoutbox) == 2 and all("/join/" in m.body for m in mailoutbox)
    assert Registration.objects.get(pk=ids[0]).decided_by == setup["alice"]


def test_an_organizer_rejects_in_bulk(client, setup):
    client.force_login(setup["alice"])
    ids = [r.pk for r in setup["my_regs"]]
    client.post(CHANGELIST, {"action": "reject", "_selected_action": ids})
    assert set(Registration.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"rejected"}


def test_the_csv_export_has_prefecture_and_region_and_only_the_selection(client, setup):
    setup["my_regs"][0].physician.__class__.objects.filter(pk=setup["my_regs"][0].physician_id).update(
        facility_name="=HYPERLINK(\"http://evil\")"
    )
    client.force_login(setup["alice"])
    ids = [r.pk for r in setup["my_regs"][:2]]
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert {r["full_name"] for r in rows} == {"自分 0", "自分 1"}
    assert rows[0]["prefecture_code"] == "03"
    assert rows[0]["prefecture"] == "岩手県"
    assert rows[0]["region"] == "東北"
    assert rows[0]["underserved_prefecture"] == "yes"
    # A spreadsheet must not run a cell as a formula.
    assert any(r["facility_name"].startswith("'=") for r in rows)


def test_a_speaker_sees_their_talk_but_no_registrations(client, setup):
    client.force_login(setup["speaker"])
    assert client.get(CHANGELIST).status_code == 403
    talks = client.get("/admin/events/talk/").content.decode()
    assert "演者の講演" in talks and "他の講演" not in talks
    assert client.get("/admin/events/physician/").status_code == 403


def test_an_organizer_cannot_see_physicians_of_other_events(client, setup):
    client.force_login(setup["alice"])
    page = client.get("/admin/events/physician/").content.decode()
    assert "自分 0" in page and "他人 太郎" not in page


def test_an_organizer_sees_only_their_events(client, setup):
    client.force_login(setup["alice"])
    page = client.get("/admin/events/event/").content.decode()
    assert "Alice の講演会" in page and "Bob の講演会" not in page


def test_a_physician_signed_in_by_join_link_has_no_admin_access(client, setup):
    from events.joinlinks import join_url

    registration = register(setup["theirs"])
    client.get("/" + join_url(registration).split("/", 3)[3])
    assert client.get(f"/events/{setup['theirs'].slug}/lobby/").status_code == 200
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_nobody_adds_a_registration_in_a_physicians_name(client, setup):
    client.force_login(setup["alice"])
    assert client.get(f"{CHANGELIST}add/").status_code == 403
