"""A campaign send by real Celery workers on the real Redis, into a real SMTP server, with a worker killed mid-send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.smtp_sink import start_sink
from campaigns import sending
from campaigns.mail_content import message_id
from campaigns.models import CampaignMail, Delivery
from tests.campaigns.campaign_fixtures import campaign_for, contact, mail_of, opt_out
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_organization, make_talk

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 30
BATCH = 10
PAUSE_AT = 12  # the second message of the second batch


def start_worker(env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=INFO", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.terminate()
    try:
        return worker.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[0]


@pytest.mark.services
def test_a_worker_killed_mid_send_leaves_every_recipient_with_exactly_one_mail(redis_url, postgres_url, tmp_path,
                                                                                  settings):
    """30 consented contacts (plus one without consent and one opted out), batches of 10.

    The sink holds the 12th message after its data arrived and before its 250
    reply; the test then SIGKILLs the worker, waits for the process to be gone,
    and lets the sink go on. The sink sees that its client closed the
    connection and does not count that message: the worker never learned it
    was accepted, so by SMTP it was not (a real server that had already
    answered 250 would deliver it: that is the residual window, which this
    kill point deliberately is not). The 11th row was marked sent; rows 12-20
    stay claimed by the dead worker.

    A second worker, with the beat schedule inside it (-B, every second) and
    claims going stale after 2 s, sends the third batch, then takes over the
    stale claims. Every consented recipient must have been received exactly
    once, the held one included, each with its delivery's Message-ID.
    """
    from server.celery import app

    settings.CAMPAIGN_BATCH_SIZE = BATCH  # here the batches are queued; in the workers (env) they are sent
    organization = make_organization()
    event = make_event(organization=organization)
    make_talk(event)
    expected = {f"doctor{n:02d}@clinic.example.jp" for n in range(RECIPIENTS)}
    for email in sorted(expected):
        contact(organization, email)
    contact(organization, "unconsented@clinic.example.jp", consent=False)
    contact(organization, "left@clinic.example.jp")
    opt_out(organization, "left@clinic.example.jp")
    mail = mail_of(campaign_for(event))

    sink, controller, port = start_sink(pause_at=PAUSE_AT)
    env = dict(os.environ, DATABASE_URL=postgres_url, REDIS_URL=redis_url, EMAIL_HOST="127.0.0.1",
               EMAIL_PORT=str(port), EMAIL_USE_TLS="0", CAMPAIGN_BATCH_SIZE=str(BATCH),
               CAMPAIGN_CLAIM_STALE_SECONDS="2", BEAT_INTERVAL_SECONDS="1")
    first = start_worker(env)
    second = None
    try:
        app.conf.task_always_eager = False
        assert sending.do_send_now(mail) == RECIPIENTS  # batches queued to Redis on commit
        if not sink.paused.wait(timeout=60):
            pytest.fail("the sink never reached message %d; worker log:\n%s" % (PAUSE_AT, stop(first)))
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        sink.release.set()
        assert Delivery.objects.filter(mail=mail, status=Delivery.Status.CLAIMED).count() == BATCH - 1

        second = start_worker(env, "-B", "-s", str(tmp_path / "beat-schedule"))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            mail.refresh_from_db()
            if mail.status == CampaignMail.Status.SENT:
                break
            if second.poll() is not None:
                pytest.fail("second worker exited:\n" + second.stdout.read())
            time.sleep(0.2)
        else:
            pytest.fail("the send did not finish within 90 s; worker log:\n" + stop(second))
    finally:
        app.conf.task_always_eager = True
        if second is not None:
            stop(second)
        stop(first)
        controller.stop()
        delete_redis_keys(redis_url, os.environ.get("CELERY_KEY_PREFIX", ""))

    assert len(sink.dropped) == 1, "the held message was not dropped"
    held = sink.dropped[0][0]
    counts = Counter(rcpt for rcpt, _mid in sink.received)
    assert set(counts) == expected, "someone was skipped, or mailed without consent"
    assert sink.duplicates() == {}
    assert counts[held] == 1
    ids = {d.email: message_id(d) for d in Delivery.objects.filter(mail=mail)}
    assert sorted(mid for _rcpt, mid in sink.received) == sorted(ids[rcpt] for rcpt, _mid in sink.received)
    assert sink.dropped[0][1] == ids[held]  # sent again with the same identity
    assert set(Delivery.objects.filter(mail=mail).values_list("status", flat=True)) == {Delivery.Status.SENT}
