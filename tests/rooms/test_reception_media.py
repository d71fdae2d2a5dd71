"""Voice and video at the tables: Renkei keeps a real Janus's rooms and tokens in line with who sits where."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from rooms.reception import media
from rooms.reception.janus import JanusError, VideoRoomSession
from rooms.reception.models import Reception, ReceptionTable
from rooms.reception.moves import leave_for_good
from rooms.reception.turn import turn_password
from rooms.reception.seating import choose_room, leave_to_lobby
from tests.factories import make_event, make_talk, register
from tests.rooms.janus_server import janus  # noqa: F401 (the fixture)
from tests.rooms.janus_server import API_SECRET, JanusProcess, allowed, exists, free_port, join

pytestmark = pytest.mark.django_db

UNAUTHORIZED = 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED


@pytest.fixture
def reception():
    """An open reception with two tables and nobody seated yet."""
    talk = make_talk(make_event(), starts_in=timedelta(minutes=-65))
    now = timezone.now()
    reception = Reception.objects.create(talk=talk, opened_at=now, closes_at=now + timedelta(minutes=30),
                                         allow_self_select=True)
    for n in (1, 2):
        ReceptionTable.objects.create(talk=talk, key=f"social-{n}", name_ja=str(n), name_en=str(n))
    return reception


def tables(reception):
    return list(ReceptionTable.objects.filter(talk=reception.talk).order_by("pk"))


def seated(janus, reception, table_id):
    """The tokens of who sits at a table, as Janus allows them (less Renkei's and the staff's, always there)."""
    stamp = media.opening_stamp(reception.opened_at)
    return allowed(janus, table_id) - media.standing_tokens(stamp, table_id, media.staff_of(reception.pk))


def seat(reception, table, registration):
    return choose_room(reception.talk, registration, table.pk)


def test_the_rooms_are_created_when_the_reception_opens_and_gone_after_it_closes(janus, reception):
    first, second = tables(reception)
    assert media.sync_media(reception.pk)
    assert exists(janus, first.pk) and exists(janus, second.pk)
    Reception.objects.filter(pk=reception.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert media.sync_all() == 1
    assert not exists(janus, first.pk) and not exists(janus, second.pk)


def test_a_seated_physicians_token_opens_their_tables_room_and_no_other(janus, reception):
    first, second = tables(reception)
    alice, bob = register(reception.talk.event), register(reception.talk.event)
    seat(reception, first, alice)
    seat(reception, second, bob)
    assert media.sync_media(reception.pk)
    alices = media.token(reception, first.pk, alice.pk)
    assert seated(janus, reception, first.pk) == {alices}
    assert join(janus, first.pk, alices)["videoroom"] == "joined"
    for room_id, token in ((second.pk, alices), (first.pk, media.token(reception, second.pk, bob.pk)),
                           (first.pk, "forged"), (first.pk, media.token(reception, first.pk, bob.pk))):
        with pytest.raises(JanusError) as refused:
            join(janus, room_id, token)
        assert refused.value.code == UNAUTHORIZED


def test_the_room_cannot_be_changed_without_renkeis_secret(janus, reception):
    first, _ = tables(reception)
    assert media.sync_media(reception.pk)
    with VideoRoomSession(janus.url, API_SECRET) as s, pytest.raises(JanusError):
        s.message({"request": "destroy", "room": first.pk, "secret": "guess"})
    assert exists(janus, first.pk)


def test_seating_moving_and_leaving_sync_janus_after_the_commit(janus, reception, django_capture_on_commit_callbacks):
    first, second = tables(reception)
    alice = register(reception.talk.event)
    with django_capture_on_commit_callbacks(execute=True):
        seat(reception, first, alice)
    assert seated(janus, reception, first.pk) == {media.token(reception, first.pk, alice.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        seat(reception, second, alice)
    assert seated(janus, reception, first.pk) == set()
    assert seated(janus, reception, second.pk) == {media.token(reception, second.pk, alice.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        leave_to_lobby(reception.talk, alice)
    assert seated(janus, reception, second.pk) == set()


def test_a_removed_physician_loses_their_token(janus, reception, django_capture_on_commit_callbacks):
    first, _ = tables(reception)
    alice, bob = register(reception.talk.event), register(reception.talk.event)
    seat(reception, first, alice)
    seat(reception, first, bob)
    assert media.sync_media(reception.pk)
    with django_capture_on_commit_callbacks(execute=True):
        leave_for_good(reception.talk.event_id, alice.pk)
    assert seated(janus, reception, first.pk) == {media.token(reception, first.pk, bob.pk)}


def test_a_restarted_janus_gets_its_rooms_and_tokens_back_from_the_database(janus, reception):
    first, second = tables(reception)
    alice = register(reception.talk.event)
    seat(reception, second, alice)
    assert media.sync_media(reception.pk)
    janus.stop()
    assert not media.sync_media(reception.pk)  # logged, never raised: the tables stay text
    janus.start()
    assert not exists(janus, second.pk)
    assert media.sync_all() == 1
    assert exists(janus, first.pk)
    assert seated(janus, reception, second.pk) == {media.token(reception, second.pk, alice.pk)}


def test_the_media_details_name_the_public_url_the_room_the_token_and_the_feed(janus, reception):
    first, _ = tables(reception)
    details = media.details(reception, first.pk, 7)
    assert details == {"janus_url": "https://media.example.org/janus", "room": first.pk,
                       "token": media.token(reception, first.pk, 7), "feed": 7, "ice_servers": [],
                       "janus_token": details["janus_token"], "listen": False}
    expiry = int(details["janus_token"].split(",")[0])  # the browser's session lasts until a little after the close
    assert expiry == int(reception.closes_at.timestamp()) + media.BROWSER_TOKEN_GRACE


def test_with_turn_the_media_details_carry_short_lived_turn_credentials(janus, reception, settings):
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]
    settings.TURN_SECRET = "turn-tests-secret"
    first, _ = tables(reception)
    [server] = media.details(reception, first.pk, 7)["ice_servers"]
    assert server["urls"] == settings.TURN_URLS
    expiry, _ = server["username"].split(":")
    assert int(expiry) > time.time()
    assert server["credential"] == turn_password("turn-tests-secret", server["username"])


def test_with_media_off_nothing_is_called_and_there_are_no_details(settings, reception):
    settings.JANUS_URL = ""
    assert media.sync_media(reception.pk) and media.sync_all() == 0
    assert media.details(reception, 1, 7) is None


def test_the_janus_config_command_writes_a_config_janus_starts_with(tmp_path, settings):
    settings.JANUS_API_SECRET = API_SECRET
    port = free_port()
    call_command("janus_config", str(tmp_path), "--port", str(port), "--ice-enforce-list", "lo",
                 "--rtp-port-range", "20000-20100")
    assert 'rtp_port_range = "20000-20100"' in (tmp_path / "janus.jcfg").read_text()
    assert f"port = {port}" in (tmp_path / "janus.transport.http.jcfg").read_text()
    core = (tmp_path / "janus.jcfg").read_text()
    assert API_SECRET in core and "libjanus_videoroom.so" not in core and "libjanus_http.so" not in core
    server = JanusProcess(tmp_path, port, write=False)
    try:
        server.start()
    finally:
        server.stop()


@pytest.fixture
def two_januses(tmp_path, settings):
    """Two real Janus processes, both in JANUS_URL, with their public URLs in the same order."""
    servers = [JanusProcess(tmp_path / f"janus{n}", free_port()) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        settings.JANUS_URL = ",".join(s.url for s in servers)
        settings.JANUS_API_SECRET = API_SECRET
        settings.JANUS_PUBLIC_URL = "https://media1.example.org/janus, https://media2.example.org/janus"
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_with_two_janus_instances_each_table_lives_on_the_one_renkei_chooses_and_both_are_reconciled(
        two_januses, reception):
    # The instances' URLs carry free ports, so which instance a table hashes to differs per run: eight
    # tables all landed on one about once in 128 runs. Tables are added until both instances hold one.
    n = 3
    while len({media.instance_of(t.pk) for t in tables(reception)}) < 2 and n <= 40:
        ReceptionTable.objects.create(talk=reception.talk, key=f"social-{n}", name_ja=str(n), name_en=str(n))
        n += 1
    alice = register(reception.talk.event)
    chosen = {t.pk: media.instance_of(t.pk) for t in tables(reception)}
    assert set(chosen.values()) == {0, 1}  # both instances hold some
    first = tables(reception)[0]
    seat(reception, first, alice)
    assert media.sync_media(reception.pk)
    for table_id, index in chosen.items():
        assert exists(two_januses[index], table_id) and not exists(two_januses[1 - index], table_id)
        details = media.details(reception, table_id, alice.pk)
        assert details["janus_url"] == f"https://media{index + 1}.example.org/janus"
    home = two_januses[chosen[first.pk]]
    assert media.token(reception, first.pk, alice.pk) in allowed(home, first.pk)
    assert join(home, first.pk, media.token(reception, first.pk, alice.pk))["videoroom"] == "joined"
    Reception.objects.filter(pk=reception.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert media.sync_all() == 1
    assert not any(exists(two_januses[index], table_id) for table_id, index in chosen.items())


def test_adding_a_janus_instance_moves_only_the_tables_it_takes_over(settings):
    two = ["http://a/janus", "http://b/janus"]
    three = [*two, "http://c/janus"]
    moved = [t for t in range(1, 601) if media.instance_of(t, two) != media.instance_of(t, three)]
    assert all(media.instance_of(t, three) == 2 for t in moved)  # none moves between the old two
    assert 120 < len(moved) < 280  # about a third, where table % n would move two thirds


def test_public_urls_that_do_not_match_the_instances_are_refused_at_startup():
    import subprocess
    import sys

    env = {"JANUS_URL": "http://a/janus,http://b/janus", "JANUS_PUBLIC_URL": "https://media.example.org/janus",
           "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", "import server.settings"], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "JANUS_PUBLIC_URL must name one public URL" in run.stderr


@pytest.mark.django_db(transaction=True)
async def test_the_reception_clock_destroys_the_tables_rooms_at_the_close_without_waiting_for_the_beat(janus):
    from asgiref.sync import sync_to_async
    from channels.db import database_sync_to_async

    from rooms.realtime.reception_clock import ReceptionClock

    def opened():
        talk = make_talk(make_event(), starts_in=timedelta(minutes=-65))
        now = timezone.now()
        reception = Reception.objects.create(talk=talk, opened_at=now, closes_at=now + timedelta(minutes=30))
        table = ReceptionTable.objects.create(talk=talk, key="social-1", name_ja="1", name_en="1")
        assert media.sync_media(reception.pk)
        Reception.objects.filter(pk=reception.pk).update(closes_at=timezone.now())
        return reception.pk, table.pk

    talk_id, table_id = await database_sync_to_async(opened)()  # gives its connection back
    assert await sync_to_async(exists)(janus, table_id)
    clock = ReceptionClock()
    clock.watch(talk_id, time.time())

    class NoSockets:
        def local_members(self, group):
            return []

        def queue(self, group, text):
            pass

    await clock.tick(NoSockets())
    assert clock.closing, "the clean-up starts at the close"
    assert await next(iter(clock.closing))
    assert not await sync_to_async(exists)(janus, table_id)


def test_a_browser_reaches_janus_only_with_the_signed_token_it_was_given(janus, reception):
    first, _ = tables(reception)
    alice = register(reception.talk.event)
    seat(reception, first, alice)
    details = media.details(Reception.objects.get(pk=reception.pk), first.pk, alice.pk)
    assert API_SECRET not in str(details)
    # A session with the browser's token works; without it (or a forged one) Janus answers 403.
    from rooms.reception.janus_config import browser_token
    for token, accepted in ((details["janus_token"], True), ("", False),
                            (browser_token("another-secret", time.time() + 600), False),
                            (browser_token(API_SECRET, time.time() - 5), False)):
        assert _create_session(janus.url, token) is accepted, token


def _create_session(url: str, token: str) -> bool:
    import json
    import urllib.request
    body = json.dumps({"janus": "create", "transaction": "t", **({"token": token} if token else {})}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST",
                                                       headers={"Content-Type": "application/json"})) as answer:
        return json.loads(answer.read())["janus"] == "success"
