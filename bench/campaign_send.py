"""How fast one Celery worker sends a 10,000-contact invitation, and that a killed worker costs nobody a mail.

    python -m bench.campaign_send [--contacts 10000] [--batch 200]
    scripts/bench-campaign-send [same options]

Needs PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL picks the PostgreSQL server, default
postgres://postgres@127.0.0.1:5432/postgres; REDIS_URL, default redis://127.0.0.1:6379/0).
Creates its own database renkei_bench_send_<pid> and Redis key prefix, starts an SMTP sink
(aiosmtpd, bench/smtp_sink.py) on 127.0.0.1 and the workers (``celery worker --pool=solo``:
one process), and removes all of it at the end.

Two runs over the same contacts, each a new invitation:

1. **speed**: one worker sends the whole invitation; mails/s is counted from the
   moment the send was started (recipients fixed, batches queued) to the sink's
   last accepted message (target: at least 100/s);
2. **kill**: the sink holds the message half-way through before its 250 reply;
   the worker is SIGKILLed, a new one (with the beat schedule inside, claims
   stale after 2 s) finishes the send. Received and duplicates are counted
   (target: exactly the contact count, no duplicate).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1,
                        help="worker processes of the one worker in the speed run: 1 is --pool=solo, more is prefork "
                             "(the Procfile's worker uses one per core)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = parser.parse_args()

    import redis

    from bench.own_database import own_database

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"renkei-bench-send-{os.getpid()}:"
    os.environ.update({
        "REDIS_URL": redis_url, "CELERY_KEY_PREFIX": prefix, "CHANNEL_LAYER_PREFIX": prefix.rstrip(":"),
        "CAMPAIGN_BATCH_SIZE": str(args.batch), "LOG_LEVEL": "WARNING",
    })
    try:
        with own_database(f"renkei_bench_send_{os.getpid()}"):
            return _run(args)
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)


def _run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    mail_ids = _seed(args.contacts)
    speed = _speed_run(mail_ids[0], args.contacts, args.concurrency)
    kill = _kill_run(mail_ids[1], args.contacts)
    figures = {"contacts": args.contacts, "batch": args.batch, **speed, **kill}
    print(f"speed: {args.contacts} mails in {speed['seconds']:.1f} s = {speed['mails_per_s']:.0f} mails/s "
          f"(target >= 100); worker CPU {speed['worker_cpu_ms_per_mail']:.2f} ms per mail")
    print(f"kill at message {kill['killed_at']}: received {kill['received']} of {args.contacts}, "
          f"{kill['duplicates']} duplicates, {kill['missing']} missing, held message dropped: {kill['dropped']}")
    if args.json:
        print(json.dumps(figures))
    ok = speed["mails_per_s"] >= 100 and kill["received"] == args.contacts and not kill["duplicates"]
    return 0 if ok else 1


def _seed(count: int) -> list[int]:
    from datetime import date

    from campaigns.models import Audience, Campaign, CampaignMail, Contact, Organization
    from events.models import Event
    from regions.models import Prefecture

    organization = Organization.objects.create(slug="bench", name="ベンチマーク医学会",
                                               postal_address="〒020-0000 岩手県盛岡市内丸1-1",
                                               contact_email="office@bench.example.jp")
    prefectures = list(Prefecture.objects.order_by("code"))
    Contact.objects.bulk_create([
        Contact(organization=organization, email=f"doctor{n:05d}@clinic.example.jp", full_name="岩手 太郎",
                prefecture=prefectures[n % len(prefectures)], consent_date=date(2026, 4, 1),
                consent_source="学会入会時の同意書") for n in range(count)], batch_size=2000)
    event = Event.objects.create(slug="bench-event", title="ベンチマーク講演会", description="",
                                 organization=organization)
    audience = Audience.objects.create(organization=organization, name="全員")
    campaign = Campaign.objects.create(event=event, audience=audience, name="ベンチマーク", slug="bench")
    return [CampaignMail.objects.create(campaign=campaign, kind=CampaignMail.Kind.INVITATION,
                                        subject=f"ご案内 {n}", body="先生方各位\n\n講演会をご案内いたします。").pk
            for n in (1, 2)]


def _worker(port: int, *extra: str, concurrency: int = 1, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="0", **env)
    pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "server", "worker", *pool, "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel=WARNING", *extra],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_sent(mail_id: int, deadline_s: float) -> None:
    from campaigns.models import CampaignMail

    deadline = time.monotonic() + deadline_s
    while CampaignMail.objects.get(pk=mail_id).status != CampaignMail.Status.SENT:
        if time.monotonic() > deadline:
            raise SystemExit(f"mail {mail_id} not sent within {deadline_s:.0f} s")
        time.sleep(0.2)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _speed_run(mail_id: int, count: int, concurrency: int) -> dict:
    from bench.smtp_sink import start_sink
    from campaigns.models import CampaignMail
    from campaigns.sending import do_send_now

    sink, controller, port = start_sink()
    worker = _worker(port, concurrency=concurrency)
    try:
        time.sleep(3)  # the worker connects to Redis; the clock starts at the send, not at its start-up
        idle_cpu = _cpu_seconds(worker.pid)
        started = time.monotonic()
        do_send_now(CampaignMail.objects.get(pk=mail_id))
        _wait_sent(mail_id, 600)
        seconds = (sink.last_at or started) - started
        cpu = _cpu_seconds(worker.pid) - idle_cpu
    finally:
        _stop(worker)
        controller.stop()
    received = len(sink.received)
    if received != count or sink.duplicates():
        raise SystemExit(f"speed run: received {received} of {count}, duplicates {len(sink.duplicates())}")
    return {"seconds": seconds, "mails_per_s": count / seconds, "concurrency": concurrency,
            "worker_cpu_ms_per_mail": cpu * 1000 / count}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its children so far (prefork pool processes included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid] + [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _kill_run(mail_id: int, count: int) -> dict:
    from bench.smtp_sink import start_sink
    from campaigns.models import CampaignMail, Delivery
    from campaigns.sending import do_send_now

    half = count // 2
    sink, controller, port = start_sink(pause_at=half)
    first = _worker(port)
    second = None
    try:
        do_send_now(CampaignMail.objects.get(pk=mail_id))
        if not sink.paused.wait(timeout=600):
            raise SystemExit("kill run: the send never reached half-way")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        sink.release.set()
        second = _worker(port, "-B", "-s", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"beat-{os.getpid()}"),
                         CAMPAIGN_CLAIM_STALE_SECONDS="2", BEAT_INTERVAL_SECONDS="1")
        _wait_sent(mail_id, 600)
    finally:
        if second is not None:
            _stop(second)
        _stop(first)
        controller.stop()
    expected = set(Delivery.objects.filter(mail_id=mail_id).values_list("email", flat=True))
    counts = Counter(rcpt for rcpt, _mid in sink.received)
    return {"killed_at": half, "received": sum(counts.values()), "distinct": len(counts),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1), "missing": len(expected - set(counts)),
            "dropped": len(sink.dropped)}


if __name__ == "__main__":
    sys.exit(main())
