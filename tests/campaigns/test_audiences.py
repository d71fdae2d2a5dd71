"""Whom an audience selects, criterion by criterion and combined, and how many of them may be mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from campaigns.audiences import audience_contacts, audience_map, audience_size
from campaigns.models import Audience, Contact, OptOut
from events.models import Physician, Registration
from regions.models import Prefecture, Region
from rooms.models import Attendance, LectureRoom, Seat
from tests.factories import make_event, make_organization, make_talk, register

pytestmark = pytest.mark.django_db

TALK_START = datetime(2026, 11, 10, 13, 0, tzinfo=UTC)
CONSENT = {"consent_date": date(2026, 4, 1), "consent_source": "学会ウェブサイト"}


def contact(organization: Any, name: str, code: str, specialty: str = "", facility: str = "", consent: bool = True,
            opted_out: bool = False) -> Contact:
    email = f"{name}@example.jp"
    if opted_out:
        OptOut.objects.create(organization=organization, email=email)
    return Contact.objects.create(organization=organization, email=email, full_name=name,
                                  prefecture=Prefecture.objects.get(code=code), specialty=specialty,
                                  facility_type=facility, **(CONSENT if consent else {}))


@pytest.fixture
def scene() -> dict[str, Any]:
    """Seven contacts of one society, and one of another society in Iwate.

    iwate    03 Iwate (Tohoku, shortage)    internal medicine, clinic     consent
    tokyo    13 Tokyo (Kanto, surplus)       cardiology, hospital          consent
    aomori   02 Aomori (Tohoku, shortage)    surgery, hospital             no consent
    osaka    27 Osaka (Kinki, surplus)       internal medicine, other      consent, opted out
    sapporo  01 Hokkaido (middle)            pediatrics, clinic            no consent
    nosource 13 Tokyo                        -                             consent date without a source
    refused  07 Fukushima (Tohoku, shortage) -                             no consent, opted out
    """
    society = make_organization("iwate-society")
    other = make_organization("miyagi-society")
    people = {
        "iwate": contact(society, "iwate", "03", "internal_medicine", "clinic"),
        "tokyo": contact(society, "tokyo", "13", "cardiology", "hospital"),
        "aomori": contact(society, "aomori", "02", "surgery", "hospital", consent=False),
        "osaka": contact(society, "osaka", "27", "internal_medicine", "other", opted_out=True),
        "sapporo": contact(society, "sapporo", "01", "pediatrics", "clinic", consent=False),
        "nosource": Contact.objects.create(organization=society, email="nosource@example.jp", full_name="nosource",
                                           prefecture=Prefecture.objects.get(code="13"),
                                           consent_date=date(2026, 4, 1)),
        "refused": contact(society, "refused", "07", consent=False, opted_out=True),
    }
    contact(other, "stranger", "03", "internal_medicine", "clinic")
    return {"society": society, "other": other, **people}


def audience(scene: dict[str, Any], regions: tuple[str, ...] = (), prefectures: tuple[str, ...] = (),
             **fields: Any) -> Audience:
    made = Audience.objects.create(organization=scene["society"], name="test", **fields)
    made.regions.set(Region.objects.filter(key__in=regions))
    made.prefectures.set(Prefecture.objects.filter(code__in=prefectures))
    return made


def selected(made: Audience) -> set[str]:
    return set(audience_contacts(made).values_list("full_name", flat=True))


EVERYONE = {"iwate", "tokyo", "aomori", "osaka", "sapporo", "nosource", "refused"}


def test_an_audience_without_criteria_targets_every_contact_of_its_organization_only(scene):
    assert selected(audience(scene)) == EVERYONE


def test_regions_select_the_contacts_of_their_prefectures(scene):
    assert selected(audience(scene, regions=("tohoku",))) == {"iwate", "aomori", "refused"}


def test_prefectures_select_their_own_contacts(scene):
    assert selected(audience(scene, prefectures=("13",))) == {"tokyo", "nosource"}


def test_regions_and_prefectures_together_mean_either(scene):
    assert selected(audience(scene, regions=("tohoku",), prefectures=("27",))) == {"iwate", "aomori", "refused",
                                                                                    "osaka"}


def test_shortage_only_keeps_the_physician_shortage_prefectures(scene):
    assert selected(audience(scene, shortage_only=True)) == {"iwate", "aomori", "refused"}


def test_shortage_only_narrows_the_chosen_places(scene):
    assert selected(audience(scene, prefectures=("13", "02"), shortage_only=True)) == {"aomori"}


def test_specialties_select_any_of_the_chosen(scene):
    assert selected(audience(scene, specialties=["internal_medicine", "cardiology"])) == {"iwate", "tokyo", "osaka"}


def test_facility_types_select_any_of_the_chosen(scene):
    assert selected(audience(scene, facility_types=["hospital"])) == {"tokyo", "aomori"}


def test_every_criterion_set_must_hold(scene):
    assert selected(audience(scene, regions=("tohoku", "kanto"), facility_types=["hospital"],
                             specialties=["surgery"])) == {"aomori"}
    assert selected(audience(scene, regions=("kinki",), specialties=["cardiology"])) == set()


@pytest.fixture
def past(scene: dict[str, Any]) -> dict[str, Any]:
    """An earlier event of the society, and what its registrants did (attended means 10 minutes or more).

    iwate: 12 minutes (two overlapping tabs, 0–8 and 5–12), then a reception table;
    tokyo: 9 minutes, below the threshold, and a reception table anyway;
    aomori: registered, then cancelled;
    sapporo: registered, never came; the admin since typed the address with capitals.
    """
    event = make_event(organization=scene["society"], registration_opens_at=None)
    talk = make_talk(event, starts_at=TALK_START, ends_at=TALK_START + timedelta(minutes=60))
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")
    table = LectureRoom.objects.create(talk=talk, key="t1", kind=LectureRoom.Kind.SOCIAL, name_ja="1", name_en="1")
    registrations = {name: register(event, email=f"{name}@example.jp") for name in ("iwate", "tokyo", "aomori",
                                                                                      "sapporo")}

    def watch(name: str, start: int, end: int) -> None:
        Attendance.objects.create(talk=talk, room=room, registration=registrations[name],
                                  joined_at=TALK_START + timedelta(minutes=start),
                                  left_at=TALK_START + timedelta(minutes=end))

    watch("iwate", 0, 8)
    watch("iwate", 5, 12)
    watch("tokyo", 0, 9)
    watch("aomori", 0, 60)
    for name in ("iwate", "tokyo"):
        Seat.objects.create(room=table, registration=registrations[name], joined_at=TALK_START + timedelta(minutes=61))
    Registration.objects.filter(pk=registrations["aomori"].pk).update(status=Registration.Status.CANCELLED)
    Physician.objects.filter(email="sapporo@example.jp").update(email="Sapporo@Example.JP")
    return {"event": event}


def test_registered_for_selects_the_counted_registrants_whatever_the_case_of_their_address(scene, past):
    chosen = audience(scene, past_behaviour=Audience.Behaviour.REGISTERED, past_event=past["event"])
    assert selected(chosen) == {"iwate", "tokyo", "sapporo"}


def test_attended_needs_ten_minutes_and_counts_overlapping_tabs_once(scene, past):
    chosen = audience(scene, past_behaviour=Audience.Behaviour.ATTENDED, past_event=past["event"])
    assert selected(chosen) == {"iwate"}  # 12 minutes in; 9 minutes out; a cancelled hour out


def test_joined_the_reception_selects_who_took_a_seat(scene, past):
    chosen = audience(scene, past_behaviour=Audience.Behaviour.RECEPTION, past_event=past["event"])
    assert selected(chosen) == {"iwate", "tokyo"}


def test_past_behaviour_combines_with_the_other_criteria(scene, past):
    chosen = audience(scene, regions=("tohoku",), past_behaviour=Audience.Behaviour.RECEPTION,
                      past_event=past["event"])
    assert selected(chosen) == {"iwate"}


def test_an_event_without_talks_has_no_attendees(scene):
    event = make_event(organization=scene["society"], registration_opens_at=None)
    register(event, email="iwate@example.jp")
    assert selected(audience(scene, past_behaviour=Audience.Behaviour.ATTENDED, past_event=event)) == set()


def test_another_organizations_event_selects_nobody(scene):
    theirs = make_event(organization=scene["other"], registration_opens_at=None)
    register(theirs, email="iwate@example.jp")
    assert selected(audience(scene, past_behaviour=Audience.Behaviour.REGISTERED, past_event=theirs)) == set()


def test_a_deleted_earlier_event_narrows_to_nobody_rather_than_widening_to_everyone(scene, past):
    chosen = audience(scene, past_behaviour=Audience.Behaviour.REGISTERED, past_event=past["event"])
    Audience.objects.filter(pk=chosen.pk).update(past_event=None)
    chosen.refresh_from_db()
    assert selected(chosen) == set()


def test_the_size_splits_the_targeted_into_sendable_no_consent_and_opted_out(scene):
    size = audience_size(audience(scene))
    assert (size.targeted, size.sendable, size.no_consent, size.opted_out) == (7, 2, 3, 2)
    assert size.sendable == Contact.objects.filter(organization=scene["society"]).sendable().count()


def test_an_opt_out_in_another_organization_leaves_the_contact_sendable(scene):
    OptOut.objects.create(organization=scene["other"], email="iwate@example.jp")
    assert audience_size(audience(scene, prefectures=("03",))).sendable == 1


def test_the_map_counts_each_prefecture_and_adds_up_regions_and_the_total(scene):
    sizes = audience_map(audience(scene))
    by_code = {area.key: area for area in sizes.prefectures}
    assert len(by_code) == 47 and by_code["02"].shortage and not by_code["13"].shortage
    tokyo = by_code["13"].size
    assert (tokyo.targeted, tokyo.sendable, tokyo.no_consent, tokyo.opted_out) == (2, 1, 1, 0)
    assert by_code["47"].size.targeted == 0
    regions = {area.key: area.size for area in sizes.regions}
    assert [area.key for area in sizes.regions][:3] == ["hokkaido", "tohoku", "kanto"]
    tohoku = regions["tohoku"]
    assert (tohoku.targeted, tohoku.sendable, tohoku.no_consent, tohoku.opted_out) == (3, 1, 1, 1)
    assert sizes.total.targeted == 7 and sizes.total.sendable == 2
    assert sum(size.targeted for size in regions.values()) == 7


def test_the_map_takes_the_same_few_queries_whatever_the_number_of_contacts(scene, past,
                                                                            django_assert_num_queries):
    chosen = audience(scene, regions=("tohoku",), prefectures=("13",), past_behaviour=Audience.Behaviour.ATTENDED,
                      past_event=past["event"])
    # Regions, prefectures, talks, the grouped count, the prefecture list.
    with django_assert_num_queries(5):
        audience_map(chosen)
    for n in range(30):
        contact(scene["society"], f"more{n}", "03")
    chosen = Audience.objects.get(pk=chosen.pk)
    with django_assert_num_queries(5):
        assert audience_map(chosen).total.targeted == 1
