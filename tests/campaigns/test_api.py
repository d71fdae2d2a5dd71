"""The read-only API for CRM and MA tools: tokens, tenancy, pagination, the numbers and the schema.

The Iwate society holds a token and one event with three registrations (two
watched the talk); the Miyagi society has its own event. Whatever the Iwate
token asks, nothing of Miyagi's comes back, and Miyagi's event answers as if
it did not exist.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from openapi_spec_validator import validate

from campaigns.models import ApiToken
from campaigns.services import do_create_api_token, hash_token
from regions.models import Prefecture
from rooms.models import Attendance, LectureRoom
from tests.factories import make_event, make_organization, make_staff, make_talk, register

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/events/", "/api/v1/events/{slug}/registrations/", "/api/v1/events/{slug}/attendance/",
             "/api/v1/events/{slug}/funnel/"]
# Their own tests: tests/campaigns/test_campaign_api.py.
CAMPAIGN_ENDPOINTS = ["/api/v1/campaigns/", "/api/v1/campaigns/{campaign_id}/funnel/"]


@pytest.fixture
def scene() -> dict[str, Any]:
    iwate = make_organization("iwate", name="岩手医学会")
    miyagi = make_organization("miyagi", name="宮城医学会")
    event = make_event(slug="tohoku-2026", title="東北がんゲノム講演会", organization=iwate)
    talk = make_talk(event, starts_in=timedelta(hours=-2), minutes=60)
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")
    iwate_doctor = register(event, email="iwate@clinic.example.jp", prefecture=Prefecture.objects.get(code="03"))
    aomori_doctor = register(event, email="aomori@hospital.example.jp", facility_type="hospital",
                             specialty="medical_oncology", prefecture=Prefecture.objects.get(code="02"))
    register(event, email="tokyo@clinic.example.jp", prefecture=Prefecture.objects.get(code="13"))
    start = talk.starts_at
    # Two overlapping tabs, 0–20 and 10–30 minutes: 30 minutes watched, not 40.
    for a, b in ((0, 20), (10, 30)):
        Attendance.objects.create(talk=talk, room=room, registration=iwate_doctor,
                                  joined_at=start + timedelta(minutes=a), left_at=start + timedelta(minutes=b))
    Attendance.objects.create(talk=talk, room=room, registration=aomori_doctor, joined_at=start,
                              left_at=start + timedelta(minutes=5))
    theirs = make_event(slug="miyagi-only", title="宮城の講演会", organization=miyagi)
    register(theirs, email="secret@miyagi.example.jp", prefecture=Prefecture.objects.get(code="04"))
    _token, secret = do_create_api_token(iwate, "Salesforce")
    _their_token, their_secret = do_create_api_token(miyagi, "HubSpot")
    return {"iwate": iwate, "miyagi": miyagi, "event": event, "talk": talk, "theirs": theirs,
            "secret": secret, "their_secret": their_secret, "iwate_doctor": iwate_doctor}


def get(client, path: str, secret: str | None) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return client.get(path, headers=headers)


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", ["missing", "wrong", "revoked", "not bearer"])
def test_every_endpoint_answers_401_with_a_json_error_and_a_bearer_challenge_without_a_valid_token(
        client, scene, endpoint: str, case: str) -> None:
    path = endpoint.format(slug="tohoku-2026")
    if case == "missing":
        response = get(client, path, None)
    elif case == "wrong":
        response = get(client, path, scene["secret"] + "x")
    elif case == "revoked":
        ApiToken.objects.filter(organization=scene["iwate"]).update(revoked_at=timezone.now())
        response = get(client, path, scene["secret"])
    else:
        response = client.get(path, headers={"Authorization": f"Token {scene['secret']}"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.json()["detail"]
    assert "東北" not in response.content.decode()


def test_create_api_token_prints_a_working_token_as_its_last_line_and_stores_only_its_hash(client, scene) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "--organization", "iwate", "--name", "Marketo", stdout=out, stderr=err)
    secret = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(name="Marketo")
    assert token.secret_hash == hash_token(secret) and secret not in (token.secret_hash, token.prefix)
    assert secret.startswith(token.prefix) and len(secret) > 40
    assert token.last_used_at is None
    response = get(client, "/api/v1/events/", secret)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.services
def test_create_api_token_as_a_process_prints_only_the_token_on_stdout_for_a_script_to_capture(client, postgres_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    make_organization("iwate")  # committed: a transactional test, visible to the process
    env = {**os.environ, "DATABASE_URL": postgres_url, "SECRET_KEY": settings.SECRET_KEY, "DB_POOL_MAX_SIZE": "0"}
    done = subprocess.run([sys.executable, "manage.py", "create_api_token", "--organization", "iwate"],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "shown only now" in done.stderr
    secret = done.stdout.strip()
    assert "\n" not in secret and secret.startswith("rk_")
    assert get(client, "/api/v1/events/", secret).status_code == 200


def test_create_api_token_for_an_unknown_organization_fails_clearly() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no organization"):
        call_command("create_api_token", "--organization", "nobody", stdout=io.StringIO())


# ---------------------------------------------------------------- tenancy


def test_the_event_list_holds_only_the_tokens_organizations_events(client, scene) -> None:
    body = get(client, "/api/v1/events/", scene["secret"]).json()
    assert [e["slug"] for e in body["items"]] == ["tohoku-2026"]
    assert body["items"][0]["talks"][0]["id"] == scene["talk"].pk
    assert body["count"] == 1
    theirs = get(client, "/api/v1/events/", scene["their_secret"]).json()
    assert [e["slug"] for e in theirs["items"]] == ["miyagi-only"]


@pytest.mark.parametrize("endpoint", ENDPOINTS[1:])
def test_another_organizations_event_is_404_like_one_that_does_not_exist(client, scene, endpoint: str) -> None:
    theirs = get(client, endpoint.format(slug="miyagi-only"), scene["secret"])
    nowhere = get(client, endpoint.format(slug="no-such-event"), scene["secret"])
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()
    assert "miyagi" not in theirs.content.decode().lower()
    assert get(client, endpoint.format(slug="miyagi-only"), scene["their_secret"]).status_code == 200


# ---------------------------------------------------------------- what comes back


def test_registrations_carry_prefecture_region_and_japan_time_and_no_names(client, scene) -> None:
    response = get(client, "/api/v1/events/tohoku-2026/registrations/", scene["secret"])
    assert response.status_code == 200
    items = {r["email"]: r for r in response.json()["items"]}
    assert set(items) == {"iwate@clinic.example.jp", "aomori@hospital.example.jp", "tokyo@clinic.example.jp"}
    aomori = items["aomori@hospital.example.jp"]
    assert aomori["prefecture"] == {"code": "02", "name_ja": "青森県", "name_en": "Aomori", "shortage": True}
    assert aomori["region"]["name_ja"] == "東北" and aomori["region"]["key"]
    assert aomori["facility_type"] == "hospital" and aomori["specialty"] == "medical_oncology"
    assert aomori["status"] == "approved"
    assert aomori["created_at"].endswith("+09:00")
    assert items["tokyo@clinic.example.jp"]["prefecture"]["shortage"] is False
    # A CRM hand-off needs the matching key and the segments, not the name or the facility.
    text = response.content.decode()
    assert "岩手 太郎" not in text and "クリニック" not in text and "full_name" not in text


def test_attendance_gives_minutes_watched_per_talk_as_the_union_of_connections(client, scene) -> None:
    body = get(client, "/api/v1/events/tohoku-2026/attendance/", scene["secret"]).json()
    assert body["count"] == 2  # the Tokyo registrant never connected
    rows = {r["email"]: r for r in body["items"]}
    assert rows["iwate@clinic.example.jp"]["talks"] == [{"talk_id": scene["talk"].pk, "minutes_watched": 30.0}]
    assert rows["iwate@clinic.example.jp"]["total_minutes"] == 30.0
    assert rows["aomori@hospital.example.jp"]["total_minutes"] == 5.0
    assert rows["aomori@hospital.example.jp"]["prefecture_code"] == "02"


def test_the_funnel_is_the_dashboards_per_prefecture_region_and_total(client, scene) -> None:
    body = get(client, "/api/v1/events/tohoku-2026/funnel/", scene["secret"]).json()
    prefectures = {row["key"]: row for row in body["prefectures"]}
    assert len(prefectures) == 47 and body["min_minutes"] == 10
    assert (prefectures["03"]["registered"], prefectures["03"]["attended"]) == (1, 1)
    assert (prefectures["02"]["registered"], prefectures["02"]["attended"]) == (1, 0)  # 5 minutes < 10
    assert prefectures["03"]["region"] == prefectures["02"]["region"]
    assert prefectures["02"]["shortage"] is True
    assert (body["total"]["registered"], body["total"]["attended"]) == (3, 1)
    assert body["total"]["attended_rate"] == pytest.approx(1 / 3)
    tohoku = next(row for row in body["regions"] if row["name_ja"] == "東北")
    assert tohoku["registered"] == 2
    lower = get(client, "/api/v1/events/tohoku-2026/funnel/?min_minutes=5", scene["secret"]).json()
    assert lower["total"]["attended"] == 2


# ---------------------------------------------------------------- pagination


def test_pages_follow_limit_and_offset_with_the_total_and_the_next_offset(client, scene) -> None:
    path = "/api/v1/events/tohoku-2026/registrations/"
    first = get(client, f"{path}?limit=2", scene["secret"]).json()
    assert (first["count"], first["limit"], first["offset"], first["next"]) == (3, 2, 0, 2)
    assert len(first["items"]) == 2
    second = get(client, f"{path}?limit=2&offset={first['next']}", scene["secret"]).json()
    assert len(second["items"]) == 1 and second["next"] is None
    seen = [r["id"] for r in first["items"] + second["items"]]
    assert len(set(seen)) == 3 and seen == sorted(seen)
    attendance = get(client, "/api/v1/events/tohoku-2026/attendance/?limit=1&offset=1", scene["secret"]).json()
    assert attendance["count"] == 2 and len(attendance["items"]) == 1 and attendance["next"] is None


def test_a_page_takes_the_same_number_of_queries_however_many_rows_it_holds(client, scene,
                                                                          django_assert_max_num_queries) -> None:
    event, talk = scene["event"], scene["talk"]
    room = LectureRoom.objects.get(talk=talk)
    for n in range(30):
        registration = register(event, email=f"more{n}@clinic.example.jp")
        Attendance.objects.create(talk=talk, room=room, registration=registration, joined_at=talk.starts_at,
                                  left_at=talk.starts_at + timedelta(minutes=n + 1))
    # Token lookup and last-used stamp, then a fixed handful for the page itself.
    for path, most in (("events/", 5), ("events/tohoku-2026/registrations/", 5),
                       ("events/tohoku-2026/attendance/", 8)):
        with django_assert_max_num_queries(most):
            body = get(client, f"/api/v1/{path}", scene["secret"]).json()
        assert body["count"] >= 1


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=many"])
def test_a_page_size_out_of_range_is_a_clear_422(client, scene, query: str) -> None:
    response = get(client, f"/api/v1/events/tohoku-2026/registrations/?{query}", scene["secret"])
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("offset", [2**63, 10**30])
def test_an_offset_beyond_what_the_database_takes_is_a_clear_422_not_a_server_error(client, scene, offset) -> None:
    # Found by the schema fuzz (test_api_fuzz.py): the database's OFFSET is 64-bit.
    for path in ("events/", "events/tohoku-2026/registrations/", "events/tohoku-2026/attendance/", "campaigns/"):
        response = get(client, f"/api/v1/{path}?offset={offset}", scene["secret"])
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["loc"] == ["query", "offset"]
    last = get(client, f"/api/v1/events/tohoku-2026/registrations/?offset={2**53 - 1}", scene["secret"]).json()
    assert (last["count"], last["items"], last["next"]) == (3, [], None)


@pytest.mark.parametrize("slug", ["tohoku%002026", "%FF", "東北", "x" * 81, "tohoku-2026%0A"])
@pytest.mark.parametrize("endpoint", ENDPOINTS[1:])
def test_a_slug_no_event_can_have_is_a_clear_422_before_the_database_is_asked(client, scene, endpoint, slug) -> None:
    # A NUL in the slug was a server error on PostgreSQL, which refuses NUL in a query (found by the fuzz).
    response = get(client, endpoint.format(slug=slug), scene["secret"])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "slug"]


# ---------------------------------------------------------------- schema


def test_the_schema_is_valid_openapi_3_with_every_path_and_bearer_auth(client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {*ENDPOINTS, *CAMPAIGN_ENDPOINTS}
    assert {"type": "http", "scheme": "bearer"} in schema["components"]["securitySchemes"].values()
    for path in schema["paths"].values():
        assert path["get"]["security"] and "401" in path["get"]["responses"]


# ---------------------------------------------------------------- admin


def test_organizers_see_and_revoke_only_their_organizations_tokens_never_a_secret(client, scene) -> None:
    alice = make_staff("alice", "organizer")
    scene["iwate"].members.add(alice)
    client.force_login(alice)
    mine = ApiToken.objects.get(organization=scene["iwate"])
    theirs = ApiToken.objects.get(organization=scene["miyagi"])
    page = client.get("/admin/campaigns/apitoken/").content.decode()
    assert mine.prefix in page and "Salesforce" in page
    assert theirs.prefix not in page and "HubSpot" not in page
    assert scene["secret"] not in page and mine.secret_hash not in page
    change = client.get(f"/admin/campaigns/apitoken/{mine.pk}/change/").content.decode()
    assert scene["secret"] not in change and mine.secret_hash not in change
    assert client.get(f"/admin/campaigns/apitoken/{theirs.pk}/change/").status_code in (302, 404)
    # Revoking a selection that includes another organization's token touches only one's own.
    client.post("/admin/campaigns/apitoken/", {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert get(client, "/api/v1/events/", scene["secret"]).status_code == 401
    assert get(client, "/api/v1/events/", scene["their_secret"]).status_code == 200
