"""Settings come from the environment: the embedded and production shapes, and refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
from server.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "tz": settings.TIME_ZONE,
    "lang": settings.LANGUAGE_CODE,
    "langs": [code for code, _ in settings.LANGUAGES],
    "email": settings.EMAIL_BACKEND,
    "hosts": settings.ALLOWED_HOSTS,
    "site": settings.SITE_URL,
    "asgi": settings.ASGI_APPLICATION,
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "health_checks": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"),
    "layer_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
}))
"""

CLEAR = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EMAIL_HOST", "SITE_URL", "TIME_ZONE",
         "DB_POOL_MAX_SIZE", "DB_CONN_MAX_AGE", "DB_POOL_TIMEOUT", "DB_POOL_RECONNECT_TIMEOUT",
         "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"]


def probe(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in CLEAR}
    full.update(env, DJANGO_SETTINGS_MODULE="server.settings", RENKEI_DATA_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60)


def test_it_runs_embedded_on_sqlite_memory_layer_and_eager_tasks_by_default(tmp_path):
    result = probe(tmp_path)
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["db_name"].startswith(str(tmp_path))
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["eager"] is True
    assert s["debug"] is True
    assert s["tz"] == "Asia/Tokyo" and s["lang"] == "ja" and s["langs"] == ["ja", "en"]
    assert s["email"].endswith("filebased.EmailBackend")
    assert s["asgi"] == "server.asgi.application"


def test_it_runs_the_production_way_with_database_and_redis_urls(tmp_path):
    result = probe(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/renkei",
        REDIS_URL="redis://127.0.0.1:6379/3",
        SECRET_KEY="a-long-production-secret",
        ALLOWED_HOSTS="renkei.example.jp",
        SITE_URL="https://renkei.example.jp/",
        EMAIL_HOST="smtp.example.jp",
    )
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["engine"] == "server.postgresql"  # Django's, with the pool's check for idle connections only
    assert s["db_name"] == "renkei"
    assert s["layer"] == "server.channel_layer.PubSubChannelLayer"
    assert s["layer_hosts"] == ["redis://127.0.0.1:6379/3"]
    assert s["eager"] is False
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["debug"] is False
    assert s["hosts"] == ["renkei.example.jp"]
    assert s["site"] == "https://renkei.example.jp"
    assert s["email"].endswith("smtp.EmailBackend")
    # A connection pool per process: Daphne's per-request threads never reuse a kept-open connection.
    assert s["pool"] == {"min_size": 2, "max_size": 10, "timeout": 20, "reconnect_timeout": 5}
    # A connection that broke while idle (the database restarted) is tried before use and replaced.
    assert s["health_checks"] is True


PRODUCTION = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/renkei", "SECRET_KEY": "a-long-production-secret"}


def test_several_redis_urls_shard_the_channel_layer_and_the_first_serves_celery(tmp_path):
    result = probe(tmp_path, **PRODUCTION, REDIS_URL="redis://10.0.0.5:6379/0, redis://10.0.0.6:6379/0")
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    # channels_redis hashes each group (a room, a talk) to one of them.
    assert s["layer_hosts"] == ["redis://10.0.0.5:6379/0", "redis://10.0.0.6:6379/0"]
    assert s["broker"] == "redis://10.0.0.5:6379/0"


def test_redis_sentinels_give_the_channel_layer_each_masters_current_address(tmp_path):
    result = probe(tmp_path, **PRODUCTION, REDIS_URL="redis://10.0.0.5:6379/0",
                   REDIS_SENTINELS="10.0.0.7:26379,10.0.0.8:26380,sentinel-c", REDIS_SENTINEL_MASTER="renkei-a,renkei-b")
    assert result.returncode == 0, result.stderr
    sentinels = [["10.0.0.7", 26379], ["10.0.0.8", 26380], ["sentinel-c", 26379]]
    assert json.loads(result.stdout)["layer_hosts"] == [{"master_name": "renkei-a", "sentinels": sentinels},
                                                        {"master_name": "renkei-b", "sentinels": sentinels}]


def test_sentinels_without_a_master_name_or_a_redis_url_are_refused(tmp_path):
    result = probe(tmp_path, **PRODUCTION, REDIS_URL="redis://10.0.0.5:6379/0", REDIS_SENTINELS="10.0.0.7:26379")
    assert result.returncode != 0 and "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together" in result.stderr
    result = probe(tmp_path, **PRODUCTION, REDIS_SENTINELS="10.0.0.7:26379", REDIS_SENTINEL_MASTER="renkei")
    assert result.returncode != 0 and "REDIS_SENTINELS needs REDIS_URL too" in result.stderr


def test_the_channel_layer_connects_through_the_sentinels_it_is_given():
    """channels_redis (the installed version) builds a Sentinel pool from such a host, as documented."""
    from channels_redis.utils import create_pool
    from redis.asyncio.sentinel import SentinelConnectionPool

    pool = create_pool({"master_name": "renkei-a", "sentinels": [("10.0.0.7", 26379)]})
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "renkei-a"


def test_the_pool_can_be_turned_off_for_persistent_connections(tmp_path):
    result = probe(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/renkei", SECRET_KEY="s",
                   DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="30")
    s = json.loads(result.stdout)
    assert s["pool"] is None and s["conn_max_age"] == 30 and s["health_checks"] is True


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = probe(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/renkei")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = probe(tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_procfile_runs_several_daphnes_a_worker_beat_and_the_media_server():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(lines) == {"web", "worker", "beat", "media"}
    assert "scripts/media" in lines["media"] and (ROOT / "scripts" / "media").stat().st_mode & 0o111
    # WEB_PROCESSES Daphne processes (tests/server/test_web_processes.py runs it).
    assert lines["web"].strip() == "scripts/web" and (ROOT / "scripts" / "web").stat().st_mode & 0o111
    web = (ROOT / "scripts" / "web").read_text()
    assert '"daphne"' in web and "server.asgi:application" in web and "WEB_PROCESSES" in web
    assert "celery -A server worker" in lines["worker"]
    assert "celery -A server beat" in lines["beat"]


def test_ci_runs_exactly_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in readme
    assert "exec ./scripts/test" in ci
