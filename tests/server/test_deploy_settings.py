"""Production settings: `manage.py check --deploy` is clean, and the security headers reach the browser."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from server.security import allow_stream, connect_sources, http_and_socket_origins

ROOT = Path(__file__).resolve().parents[2]

# Everything a deployment's environment might carry that would change the outcome.
CLEAR = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SITE_URL", "HTTPS_ONLY",
         "SESSION_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT", "JANUS_URL", "JANUS_PUBLIC_URL",
         # Set for the browser tests' in-process server (tests/e2e/conftest.py); a deployment never has it.
         "DJANGO_ALLOW_ASYNC_UNSAFE"]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "renkei.example.jp",
    "SITE_URL": "https://renkei.example.jp",
    "TRUSTED_PROXY_COUNT": "1",
    # One Janus instance: Renkei reaches it inside the private network, browsers through the proxy.
    "JANUS_URL": "http://127.0.0.1:8088/janus",
    "JANUS_PUBLIC_URL": "https://renkei.example.jp/janus",
}


def run_manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in CLEAR}
    full.update(env, DJANGO_SETTINGS_MODULE="server.settings", RENKEI_DATA_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_reports_nothing_with_the_production_environment(tmp_path):
    result = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_would_flag_a_site_served_over_plain_http(tmp_path):
    # The same environment with an http SITE_URL turns the HTTPS-only settings off (a local run):
    # the deploy check must then say so rather than pass silently.
    result = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING",
                        **{**PRODUCTION, "SITE_URL": "http://127.0.0.1:8000"})
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


def test_a_page_carries_the_security_headers_and_a_policy_without_inline_script(client):
    response = client.get("/healthz")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_connect_src_allows_the_sites_websocket_and_janus_in_both_its_schemes():
    sources = connect_sources("https://renkei.example.jp", "https://media.example.jp:8089/janus")
    assert sources == ["'self'", "wss://renkei.example.jp", "https://media.example.jp:8089", "wss://media.example.jp:8089"]
    assert connect_sources("http://127.0.0.1:8000", "") == ["'self'", "ws://127.0.0.1:8000"]
    assert http_and_socket_origins("/janus") == []


def test_a_talks_stream_origin_is_allowed_on_its_page_only():
    from django.http import HttpResponse

    response = allow_stream(HttpResponse(), ["https://cdn.example.jp/live/1/index.m3u8", ""])
    assert response._csp_update == {"connect-src": ["https://cdn.example.jp"], "media-src": ["https://cdn.example.jp"]}
    assert not hasattr(allow_stream(HttpResponse(), [""]), "_csp_update")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(client, path):
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = client.get(path)
    assert response.status_code in (200, 503)
