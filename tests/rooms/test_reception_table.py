"""A reception table is its own model (a proxy of the lecture room's row) and says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rooms.lecture.rooms import room_for
from rooms.models import LectureRoom, ReceptionTable
from tests.factories import make_event, make_talk

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk():
    return make_talk(make_event(), starts_in=timedelta(minutes=-5))


def test_a_table_made_through_its_model_is_a_social_room_whatever_the_caller_passes(talk):
    table = ReceptionTable.objects.create(talk=talk, key="social-1", kind=LectureRoom.Kind.LECTURE,
                                          name_ja="岩手 1", name_en="Iwate 1")
    assert LectureRoom.objects.get(pk=table.pk).kind == LectureRoom.Kind.SOCIAL
    [bulk] = ReceptionTable.objects.bulk_create([ReceptionTable(talk=talk, key="social-2", name_ja="2", name_en="2")])
    assert LectureRoom.objects.get(key=bulk.key).kind == LectureRoom.Kind.SOCIAL


def test_the_tables_manager_sees_the_tables_and_not_the_lecture_rooms(talk):
    lecture = room_for(talk, "all")
    table = ReceptionTable.objects.create(talk=talk, key="social-1", name_ja="1", name_en="1")
    assert list(ReceptionTable.objects.filter(talk=talk)) == [table]
    assert not ReceptionTable.objects.filter(pk=lecture.pk).exists()
    assert set(LectureRoom.objects.filter(talk=talk)) == {lecture, table}


def test_a_room_says_whether_it_is_a_table(talk):
    lecture = room_for(talk, "all")
    ReceptionTable.objects.create(talk=talk, key="social-1", name_ja="1", name_en="1")
    assert not lecture.is_table
    assert LectureRoom.objects.get(key="social-1").is_table
    assert ReceptionTable.objects.get(key="social-1").is_table


def test_a_table_read_back_keeps_its_stored_values(talk):
    created = ReceptionTable.objects.create(talk=talk, key="social-1", name_ja="岩手 1", name_en="Iwate 1")
    read = ReceptionTable.objects.only("id", "key").get(pk=created.pk)
    assert (read.key, read.name_ja, read.kind) == ("social-1", "岩手 1", LectureRoom.Kind.SOCIAL)
