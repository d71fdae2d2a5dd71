"""A real Celery worker, on the real Redis broker, sends a confirmation mail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
# Celery's INFO line when a task returns: "Task <name>[<id>] succeeded in <s>s: <return value>".
SUCCEEDED = re.compile(r"Task events\.tasks\.send_registration_mail\[[^\]]+\] succeeded in \S+: (\w+)")


class WorkerLog:
    """The worker's output, read as it is written, so a test can wait for a line instead of sleeping."""

    def __init__(self, worker: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(worker,), daemon=True)
        self.reader.start()

    def _read(self, worker: subprocess.Popen[str]) -> None:
        assert worker.stdout is not None
        for line in worker.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def outcomes(self) -> list[str]:
        """What each finished send_registration_mail returned (True: sent; False: nothing to do)."""
        return SUCCEEDED.findall(self.text())


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
    log = WorkerLog(worker)
    try:
        event = make_event(title="実ワーカー試験の講演会")
        make_talk(event)
        app.conf.task_always_eager = False
        assert app.conf.broker_url == redis_url
        registration = register(event, notify=True)  # queued on commit (transactional test)
        from events.models import MailLog
        from events.tasks import send_registration_mail

        # Queue the same mail again, as a retry would: the worker must not send it twice.
        duplicate = send_registration_mail.delay(registration.pk, "confirmation")

        def both_finished() -> list[str]:
            if worker.poll() is not None:
                pytest.fail("worker exited:\n" + log.text())
            outcomes = log.outcomes()
            return outcomes if len(outcomes) >= 2 else []

        # Each copy's "succeeded" line, with what it returned, proves it ran to its end.
        returned = wait_until(both_finished, "both copies of the confirmation task to finish", timeout=60,
                              detail=log.text)
        assert f"send_registration_mail[{duplicate.id}] succeeded" in log.text()
        assert sorted(returned) == ["False", "True"]  # one sent the mail; the other found it sent and did nothing
        assert MailLog.objects.filter(registration=registration, sent_at__isnull=False).count() == 1
        files = list(outbox.iterdir())
        content = "".join(f.read_text() for f in files)
        assert content.count("Subject:") == 1
        assert "/join/" in content
        assert "text/calendar" in content
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.reader.join(timeout=10)
        delete_redis_keys(redis_url, os.environ.get("CELERY_KEY_PREFIX", ""))

