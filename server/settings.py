"""Renkei settings: one file, driven by environment variables.

Two shapes share this file:

* embedded (no DATABASE_URL, no REDIS_URL): SQLite under ``RENKEI_DATA_DIR``,
  the in-memory channel layer and Celery tasks run eagerly in-process, so a bare
  machine shows the whole product with one command;
* production (DATABASE_URL and REDIS_URL set): PostgreSQL, channels_redis and
  Celery with Redis as broker, started from the Procfile.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


DATA_DIR = Path(os.environ.get("RENKEI_DATA_DIR", BASE_DIR / "data"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# One Redis URL, or several comma-separated: the channel layer shards its groups over all of them
# (CHANNEL_LAYERS below); the first is the one Celery, the rate limits, readiness and metrics use.
REDIS_URLS = env_list("REDIS_URL", [])
REDIS_URL = REDIS_URLS[0] if REDIS_URLS else ""

# Debug defaults on only in the embedded shape, so a production deployment that
# forgets DEBUG is strict rather than leaky.
DEBUG = env_bool("DEBUG", default=not DATABASE_URL)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: Renkei signs join links and "
            "sessions with it and refuses to start with a guessable key."
        )
    # Development only: keep a random key on disk so sessions and join links
    # survive a restart of the embedded server.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "regions",
    "events",
    "rooms",
    "campaigns",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontend.middleware.JapaneseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Remembers the UTM tags of a visit to an event's public pages (campaigns.attribution).
    "campaigns.attribution.UtmMiddleware",
]

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        # Every Renkei page and e-mail; templates live in frontend/jinja2/.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "server.jinja2.environment"},
    },
    {
        # Only the Django admin still renders with Django templates; frontend/templates
        # adds Renkei's admin stylesheet to Django's own admin/base_site.html.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, its pool checking a connection only when it was idle (server/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "server.postgresql"
    DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "10"))
    if DB_POOL_MAX_SIZE > 0 and DATABASES["default"]["ENGINE"] == "server.postgresql":
        # Daphne runs each request in a thread of its own, so a persistent
        # connection (CONN_MAX_AGE) is never reused: every join link opened a
        # new PostgreSQL backend. A pool per process reuses them.
        # timeout: how long a request waits for a connection before it is answered "unavailable".
        # reconnect_timeout: psycopg_pool retries a failed connection with a doubling delay and no ceiling
        # (1, 2, 4, 8 … s), so after a minute's outage the next try could be a minute away. A series that
        # gives up after this many seconds bounds that: the next request that needs a connection starts a
        # new series at once, so service resumes within seconds of the database answering again.
        DATABASES["default"]["OPTIONS"] = {"pool": {
            "min_size": 2, "max_size": DB_POOL_MAX_SIZE, "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "20")),
            "reconnect_timeout": float(os.environ.get("DB_POOL_RECONNECT_TIMEOUT", "5")),
        }}
    else:
        # The tests set 0 so that no worker thread keeps the test database open.
        DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    # A pooled or kept connection is tried (one empty round trip) before it is used again, so one that
    # broke while idle (the database restarted, the network cut it) is dropped and replaced, never used:
    # the pool checks one that was idle for a second or more (server/postgresql/base.py), Django a kept
    # one per request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "server.postgresql":
        # No JIT compilation: its cost estimate counts a million-row plan worth compiling, and compiling the
        # dashboard's funnel took 0.6-6 s, longer than running it (docs/performance.md). Web-sized queries never gain.
        # work_mem: the dashboard's grouped funnel sorts 50,000 rows, which spilled to disk at PostgreSQL's 4 MB
        # default; each web query uses at most a few such nodes, so 32 MB per connection is far inside the machine.
        work_mem = os.environ.get("DB_WORK_MEM", "32MB")
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c jit=off -c work_mem={work_mem}"
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "renkei.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders so the embedded shape needs no collectstatic.
WHITENOISE_USE_FINDERS = True

# Uploaded slides; served only through an access-checked view, never as public files.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
# The largest contact list an organizer may import (CSV or .xlsx), in bytes.
CONTACT_IMPORT_MAX_BYTES = int(os.environ.get("CONTACT_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))

# --- HTTPS and security headers (`manage.py check --deploy` passes with these; README
# "Production settings"). HTTPS_ONLY follows SITE_URL: a production site on https gets secure
# cookies, the redirect to https and HSTS; a local run on http (the tests, a demo laptop) keeps
# working over http. Each can be forced with its own variable.
HTTPS_ONLY = env_bool("HTTPS_ONLY", default=not DEBUG and SITE_URL.startswith("https://"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=HTTPS_ONLY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=HTTPS_ONLY)
# Probes and scrapes reach a process directly over http from inside the network; a redirect
# to https would fail them (paths without the leading slash, as Django matches them).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365 if HTTPS_ONLY else 0)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
# Behind the TLS proxy Daphne sees plain http; the proxy's X-Forwarded-Proto says what the
# browser used. Trusted only when a proxy is declared (TRUSTED_PROXY_COUNT, below), since
# without one any client could claim https.
if env_bool("SECURE_PROXY_SSL_HEADER", default=int(os.environ.get("TRUSTED_PROXY_COUNT", "0")) > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Join links carry a personal token in their path: never send a URL to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page is meant to be framed (clickjacking); CSP's frame-ancestors says the same to newer browsers.
X_FRAME_OPTIONS = "DENY"
# Database sessions (revocable, shared by every process), without the existence check per new key.
SESSION_ENGINE = "events.sessions"
# A join-link session lasts as long as an event series plausibly does.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30

# --- Channels: the pub/sub layer shares rooms between Daphne processes. Each group lives on one
# Redis, chosen by channels_redis's consistent hash of its name, and the processes subscribe per talk
# (rooms.realtime.groups.carrier): several URLs in REDIS_URL spread the talks over several Redis
# servers (sharding). With Redis Sentinel, REDIS_SENTINELS (host:port, comma-separated) and
# REDIS_SENTINEL_MASTER (the monitored master's name; several: one shard each) make every process
# ask the sentinels for the current master each time it (re)connects, so it follows a failover.
def sentinel_address(item: str) -> tuple[str, int]:
    host, colon, port = item.rpartition(":")
    return (host, int(port)) if colon else (item, 26379)  # Sentinel's own default port


REDIS_SENTINELS = [sentinel_address(item) for item in env_list("REDIS_SENTINELS", [])]
REDIS_SENTINEL_MASTERS = env_list("REDIS_SENTINEL_MASTER", [])
if bool(REDIS_SENTINELS) != bool(REDIS_SENTINEL_MASTERS):
    raise ImproperlyConfigured("REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: the sentinels' addresses "
                               "and the name of the master they monitor.")
if REDIS_SENTINELS and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_SENTINELS needs REDIS_URL too: Celery, the rate limits, readiness and "
                               "metrics reach Redis through it.")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "server.channel_layer.PubSubChannelLayer",  # channels_redis pub/sub, publishes unqueued
            "CONFIG": {
                "hosts": [{"master_name": master, "sentinels": REDIS_SENTINELS} for master in REDIS_SENTINEL_MASTERS]
                or REDIS_URLS,
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "renkei"),
            },
        }
    }
else:
    # The default capacity (100) drops group messages silently when a burst
    # outruns the reader; the relay reads continuously, so allow a deep queue.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 100_000}}}

# --- Celery: Redis broker in production, eager in-process tasks when embedded.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker logs through LOGGING (JSON lines with the task id) instead of replacing it with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "renkei")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ.get("CELERY_KEY_PREFIX", "")}
# Without Redis there is no beat process: the server runs the schedule itself (server.beat).
EMBEDDED_BEAT = env_bool("EMBEDDED_BEAT", default=not REDIS_URL)
# BEAT_INTERVAL_SECONDS runs every scheduled task that often instead (the end-to-end
# tests use 1 s so a talk's end time need not be waited for by the minute).
BEAT_INTERVAL_SECONDS = float(os.environ.get("BEAT_INTERVAL_SECONDS") or 0) or None
CELERY_BEAT_SCHEDULE = {
    # Reminders are due 24 h and 1 h before each talk; a minute's granularity is
    # plenty, and the per-mail ledger makes each run safe to repeat.
    "send-due-reminders": {"task": "events.tasks.send_due_reminders", "schedule": BEAT_INTERVAL_SECONDS or 60.0},
    # A reception opens at the talk's end time when the speaker did not end it.
    "open-due-receptions": {"task": "rooms.tasks.open_due_receptions", "schedule": BEAT_INTERVAL_SECONDS or 30.0},
    # Campaign mails whose scheduled time has come start within 30 s; sends whose worker died resume.
    "send-due-campaign-mails": {"task": "campaigns.tasks.send_due_campaign_mails",
                                "schedule": BEAT_INTERVAL_SECONDS or 30.0},
    # Open connections of talks that ended for good get their end (rooms.lecture.watch_times): the
    # dashboard stops merging them. Nothing waits on it, so every ten minutes is enough.
    "seal-finished-attendance": {"task": "rooms.tasks.seal_finished_attendance",
                                 "schedule": BEAT_INTERVAL_SECONDS or 600.0},
    # Janus's rooms and tokens follow the database (rooms.reception.media): a restarted Janus gets
    # them back, a closed reception's rooms go. A no-op when JANUS_URL is empty.
    "sync-media": {"task": "rooms.tasks.sync_media", "schedule": BEAT_INTERVAL_SECONDS or 30.0},
    # Retention periods are counted in days: an hourly look is plenty, and a purged event is skipped.
    "purge-expired-details": {"task": "campaigns.tasks.purge_expired_details",
                              "schedule": BEAT_INTERVAL_SECONDS or 3600.0},
}

# --- Voice and video at the reception tables (rooms.reception.media): Janus's HTTP API as Renkei
# reaches it (empty: media off, tables are text-only), its API secret, and the URL browsers use.
# Several instances: comma-separated URLs, the public ones in the same order; Renkei spreads the
# tables over them (rooms.reception.media.instance_of).
JANUS_URL = os.environ.get("JANUS_URL", "")
JANUS_API_SECRET = os.environ.get("JANUS_API_SECRET", "")
JANUS_PUBLIC_URL = os.environ.get("JANUS_PUBLIC_URL", "")
if JANUS_PUBLIC_URL and len(env_list("JANUS_PUBLIC_URL", [])) != len(env_list("JANUS_URL", [])):
    raise ImproperlyConfigured("JANUS_PUBLIC_URL must name one public URL for each instance in JANUS_URL, in its order.")

# --- Campaign mail (campaigns.sending): recipients per batch task (one SMTP connection each),
# the age after which a claimed but unsent delivery is taken over (its worker died), and a
# batch's hard time limit, kept below that age so a live batch is never taken over.
CAMPAIGN_BATCH_SIZE = int(os.environ.get("CAMPAIGN_BATCH_SIZE", "200"))
CAMPAIGN_CLAIM_STALE_SECONDS = float(os.environ.get("CAMPAIGN_CLAIM_STALE_SECONDS", "600"))
CAMPAIGN_SEND_TIME_LIMIT = int(os.environ.get("CAMPAIGN_SEND_TIME_LIMIT", "300"))
CAMPAIGN_SMTP_TIMEOUT = float(os.environ.get("CAMPAIGN_SMTP_TIMEOUT", "30"))

# --- Rate limits (server/ratelimits.py): counted in Redis when REDIS_URL is set, so they hold
# across processes; in the process's memory when embedded (one process serves everything).
RATELIMIT_KEY_PREFIX = os.environ.get(
    "RATELIMIT_KEY_PREFIX", os.environ.get("CHANNEL_LAYER_PREFIX", "renkei") + ":ratelimit"
)
# Registration attempts (valid forms only: a form sent back with field errors does not count),
# in the limits library's notation. One hospital's doctors may share one address, so the
# address limit is the looser one; the e-mail limit also bounds the mails one address receives.
REGISTRATION_RATE_PER_ADDRESS = os.environ.get("REGISTRATION_RATE_PER_ADDRESS", "10/minute;60/hour")
REGISTRATION_RATE_PER_EMAIL = os.environ.get("REGISTRATION_RATE_PER_EMAIL", "3/10minutes;10/day")
# How many reverse proxies in front of Daphne append to X-Forwarded-For; 0 counts REMOTE_ADDR.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- E-mail: SMTP when EMAIL_HOST is set, otherwise files under the data folder.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Renkei <no-reply@renkei.example.jp>")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", DATA_DIR / "outbox"))

# Logs (server/logs.py): one JSON object per line on stderr, with the request, WebSocket connection
# or Celery task id it belongs to; LOG_FORMAT=text for a terminal (the default while DEBUG is on).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"ids": {"()": "server.logs.ContextFilter"}, "personal": {"()": "server.logs.PersonalDataFilter"}},
    "formatters": {"json": {"()": "server.logs.json_formatter"}, "text": {"()": "server.logs.TextFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["ids", "personal"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django logs every SQL statement with its parameters (names, e-mail addresses, chat text) at
    # DEBUG while DEBUG is on: never, whatever LOG_LEVEL says.
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# TURN relay (coturn with use-auth-secret) for media behind firewalls: comma-separated
# turn:/turns: URLs handed to browsers (empty: no TURN), the shared secret, and how
# long a handed-out credential stays valid (rooms/reception/turn.py).
TURN_URLS = env_list("TURN_URLS", [])
TURN_SECRET = os.environ.get("TURN_SECRET", "")
TURN_TTL = int(os.environ.get("TURN_TTL", "3600"))
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("TURN_URLS is set but TURN_SECRET is empty: coturn's use-auth-secret needs the shared secret.")

# --- Garbage collection in server processes (server.gcpolicy): survivors are frozen
# every GC_FREEZE_SECONDS (0 turns this off) so full collections stay short; frozen
# garbage is reclaimed by one full collection every GC_RECLAIM_SECONDS.
GC_FREEZE_SECONDS = float(os.environ.get("GC_FREEZE_SECONDS", "1"))
GC_RECLAIM_SECONDS = float(os.environ.get("GC_RECLAIM_SECONDS", "600"))

# --- Threads per server process that run the hot paths' database work (server.threads: a join
# link, a WebSocket admission, a chat message). One per core, at least two: more only contend for
# the interpreter's lock while they wait on the same database; fewer queue the round trips.
DB_THREADS = int(os.environ.get("DB_THREADS", "0")) or max(2, os.cpu_count() or 1)
if DB_THREADS < 1:  # no thread would ever run a join's or a chat message's database work
    raise ImproperlyConfigured(f"DB_THREADS must be 1 or more (0 or unset: one per core), not {DB_THREADS}.")

# --- Operations (issue 13: health, metrics, logs; README "Running in production") ----------
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; empty: 404 for everyone.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Content-Security-Policy (django-csp 4): no inline script or style anywhere, so a script
# injected through user text cannot run. Sources beyond 'self' come from the settings
# (server/security.py): the WebSocket on SITE_URL's host, Janus at JANUS_PUBLIC_URL; a talk's
# HLS stream origin is added on that talk's page only. CSP_EXTRA_CONNECT_SRC adds origins
# (e.g. a CDN in front of the streams) to connect-src and media-src everywhere.
from csp.constants import NONE, SELF  # noqa: E402

from server.security import connect_sources  # noqa: E402

CSP_EXTRA_CONNECT_SRC = env_list("CSP_EXTRA_CONNECT_SRC", [])
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": [],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the inline SVG icons of stylesheets and ECharts' exported images; blob: for pdf.js pages.
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": connect_sources(SITE_URL, JANUS_PUBLIC_URL or JANUS_URL) + CSP_EXTRA_CONNECT_SRC,
        # hls.js plays through MediaSource (blob: URLs) and starts its demuxer worker from a blob:.
        "media-src": [SELF, "blob:"] + CSP_EXTRA_CONNECT_SRC,
        "worker-src": [SELF, "blob:"],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
