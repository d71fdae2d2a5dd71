"""Renkei's TURN credentials follow coturn's REST-API rule (use-auth-secret):
username "<expiry>:<person>", password base64(HMAC-SHA1(secret, username))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rooms.reception.turn import turn_credentials, turn_password

ROOT = Path(__file__).resolve().parents[2]

NOW = 1_780_000_000


def test_credentials_carry_the_configured_urls_and_an_expiry_ttl_seconds_ahead(settings) -> None:
    settings.TURN_URLS = ["turn:turn.example.jp:3478?transport=udp", "turns:turn.example.jp:5349"]
    settings.TURN_SECRET, settings.TURN_TTL = "s3cret", 600

    creds = turn_credentials("p-42", now=NOW)

    assert creds["urls"] == settings.TURN_URLS
    assert creds["username"] == f"{NOW + 600}:p-42"
    assert creds["ttl"] == 600 and creds["expires_at"] == NOW + 600


def test_the_password_is_base64_of_hmac_sha1_of_the_username_under_the_shared_secret(settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET, settings.TURN_TTL = ["turn:127.0.0.1:3478"], "s3cret", 3600

    creds = turn_credentials("p-42", now=NOW)

    expected = base64.b64encode(hmac.new(b"s3cret", f"{NOW + 3600}:p-42".encode(), hashlib.sha1).digest()).decode()
    assert creds["credential"] == expected == turn_password("s3cret", creds["username"])


def test_the_password_matches_an_independent_computation_with_openssl() -> None:
    # `echo -n 1433895918506:foo | openssl dgst -binary -sha1 -hmac north | base64`
    assert turn_password("north", "1433895918506:foo") == "gCu5Nen8d3bCI0n6JbX79huvBcg="


def test_expiry_is_whole_unix_seconds_from_the_current_time_by_default(settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET, settings.TURN_TTL = ["turn:127.0.0.1:3478"], "s3cret", 3600
    before = int(time.time())

    expiry = int(turn_credentials("p-42")["username"].split(":")[0])

    assert before + 3600 <= expiry <= int(time.time()) + 3600


def test_a_colon_in_the_person_key_cannot_shift_coturns_split_of_the_username(settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET, settings.TURN_TTL = ["turn:127.0.0.1:3478"], "s3cret", 60

    assert turn_credentials("a:b", now=NOW)["username"] == f"{NOW + 60}:a_b"


def test_without_turn_urls_no_credential_is_handed_out(settings) -> None:
    settings.TURN_URLS, settings.TURN_SECRET = [], ""

    creds = turn_credentials("p-42", now=NOW)

    assert creds["urls"] == [] and creds["credential"] == ""


def _turn_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = ("import json, django; from django.conf import settings; django.setup();"
            "print(json.dumps([settings.TURN_URLS, settings.TURN_SECRET, settings.TURN_TTL]))")
    full = {k: v for k, v in os.environ.items() if not k.startswith("TURN_")}
    full.update(env, DJANGO_SETTINGS_MODULE="server.settings", RENKEI_DATA_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60)


def test_turn_settings_come_from_the_environment(tmp_path) -> None:
    result = _turn_settings(tmp_path, TURN_URLS=" turn:a:3478?transport=udp , turns:a:5349 ", TURN_SECRET="k", TURN_TTL="900")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [["turn:a:3478?transport=udp", "turns:a:5349"], "k", 900]


def test_turn_is_off_by_default_and_refused_without_its_secret(tmp_path) -> None:
    off = _turn_settings(tmp_path)
    refused = _turn_settings(tmp_path, TURN_URLS="turn:a:3478")

    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout) == [[], "", 3600]
    assert refused.returncode != 0 and "TURN_SECRET" in refused.stderr
