"""The admin's ways into a talk's console: the landing list of one's talks and the talk pages' links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_event, make_staff, make_talk

pytestmark = pytest.mark.django_db


@pytest.fixture
def talks():
    event = make_event()
    organizer, speaker = make_staff("org", "organizer"), make_staff("spk", "speaker")
    event.organizers.add(organizer)
    next_talk = make_talk(event, title="来週の講演")
    next_talk.speakers.add(speaker)
    yesterday = make_talk(event, title="昨日終わった講演", starts_in=timedelta(hours=-20))
    yesterday.speakers.add(speaker)
    last_month = make_talk(event, title="先月の講演", starts_in=timedelta(days=-30))
    last_month.speakers.add(speaker)
    someone_elses = make_talk(make_event(), title="他の講演会の講演")
    return {"organizer": organizer, "speaker": speaker, "next": next_talk, "yesterday": yesterday,
            "someone_elses": someone_elses}


def test_staff_land_on_their_coming_talks_each_with_its_console(client, talks):
    client.force_login(talks["speaker"])
    page = client.get("/admin/").content.decode()
    assert "あなたの講演" in page
    assert page.index("来週の講演") > page.index("昨日終わった講演")  # soonest first
    assert f'href="/talks/{talks["next"].pk}/console/"' in page
    assert f'href="/talks/{talks["yesterday"].pk}/console/"' in page  # its reception and log are still run from there
    assert "先月の講演" not in page and "他の講演会の講演" not in page


def test_the_organizer_sees_the_talks_of_their_events_as_organizer(client, talks):
    client.force_login(talks["organizer"])
    page = client.get("/admin/").content.decode()
    assert "来週の講演" in page and "主催者" in page and "他の講演会の講演" not in page


def test_the_talk_list_and_the_talk_page_link_the_console(client, talks):
    client.force_login(talks["speaker"])
    link = f'href="/talks/{talks["next"].pk}/console/"'
    assert link in client.get("/admin/events/talk/").content.decode()
    page = client.get(f"/admin/events/talk/{talks['next'].pk}/change/").content.decode()
    assert link in page and "コンソールを開く" in page
