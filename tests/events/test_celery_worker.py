"""A real Celery worker, on the real Redis broker, sends a confirmation mail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.services
def test_a_real_worker_on_redis_delivers_the_confirmation_once(redis_url, postgres_url, tmp_path):
    from server.celery import app

    outbox = tmp_path / "outbox"
    env = dict(os.environ, DATABASE_URL=postgres_url, REDIS_URL=redis_url, EMAIL_FILE_PATH=str(outbox))
    env.pop("EMAIL_HOST", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        event = make_event(title="実ワーカー試験の講演会")
        make_talk(event)
        app.conf.task_always_eager = False
        assert app.conf.broker_url == redis_url
        registration = register(event, notify=True)  # queued on commit (transactional test)
        # Queue the same mail again, as a retry would: the worker must not send it twice.
        from events.tasks import send_registration_mail

        send_registration_mail.delay(registration.pk, "confirmation")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            from events.models import MailLog

            if MailLog.objects.filter(registration=registration, sent_at__isnull=False).exists() and \
                    registration.mails.count() == 1 and outbox.exists() and any(outbox.iterdir()):
                break
            if worker.poll() is not None:
                pytest.fail("worker exited:\n" + worker.stdout.read())
            time.sleep(0.3)
        else:
            worker.terminate()
            pytest.fail("no mail within 60 s; worker log:\n" + worker.communicate(timeout=10)[0])
        time.sleep(2)  # give the duplicate task time to run (and do nothing)
        files = list(outbox.iterdir())
        content = "".join(f.read_text() for f in files)
        assert content.count("Subject:") == 1
        assert "/join/" in content
        assert "text/calendar" in content
    finally:
        worker.terminate()
        try:
            log = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            log = worker.communicate()[0]
        delete_redis_keys(redis_url, os.environ.get("CELERY_KEY_PREFIX", ""))
    assert "events.tasks.send_registration_mail" in log
    assert "succeeded" in log

