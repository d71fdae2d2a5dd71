"""Load a demo: a Tohoku-targeted lecture series, its people and a few dozen registrations.

Safe to run any number of times: everything is looked up by a stable key first,
and the talk times are moved to the coming days on every run so the demo never
shows a series that ended long ago.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.templatetags.static import static
from django.utils import timezone

from campaigns.demo import load_finished_campaign
from campaigns.services import ensure_demo_organization
from events.demo_names import FAMILY, FAMILY_KANA, GIVEN, SPECIALTIES, place_name
from events.joinlinks import join_url
from events.models import Event, Physician, Registration, Talk
from events.permissions import ensure_role_groups
from events.roles import ORGANIZERS, SPEAKERS
from events.services import PhysicianDetails, register_physician
from regions.models import Prefecture, Region

DEMO_SLUG = "tohoku-precision-oncology-2026"
ORGANIZER = ("organizer", "renkei-demo-organizer")
SPEAKER = ("speaker", "renkei-demo-speaker")
# The talks: title, days after the first one, minutes. The n-th plays the stream in
# DEMO_STREAMS/<n>/ (10 s with its title, looped; committed, made by scripts/demo-stream).
TALKS = [
    ("がん遺伝子パネル検査の実際と結果の読み方", 0, 60),
    ("エキスパートパネルから地域診療へ: 病診連携で支える個別化医療", 7, 60),
]
# A talk that is live from the moment the demo is loaded and ends LIVE_MINUTES later,
# so a newcomer sees the stream play and the reception open by itself at its end
# (the embedded schedule), without pressing a button. It is made anew on every run.
LIVE_TITLE = "【ライブデモ】" + TALKS[0][0]
LIVE_MINUTES = 10
DEMO_STREAMS = Path(__file__).resolve().parents[3] / "frontend" / "static" / "demo-stream"

# Mostly Tohoku, the series' target, with a few from elsewhere as in real life.
PREFECTURES = ["02"] * 5 + ["03"] * 6 + ["04"] * 7 + ["05"] * 4 + ["06"] * 4 + ["07"] * 5 + ["13", "01", "15", "11"]


class Command(BaseCommand):
    help = "Create (or refresh) the demo event, its organizer and speaker logins and demo registrations."

    def handle(self, *args, **options):
        ensure_role_groups()
        organizer = self._user(*ORGANIZER, group=ORGANIZERS, first="花子", last="連携")
        speaker = self._user(*SPEAKER, group=SPEAKERS, first="一郎", last="東北")
        organization = ensure_demo_organization(organizer)
        now = timezone.localtime()
        start = (now + timedelta(days=2)).replace(hour=19, minute=0, second=0, microsecond=0)
        event, _ = Event.objects.update_or_create(
            slug=DEMO_SLUG,
            defaults={
                "title": "東北 がんゲノム医療 Web講演会シリーズ 2026",
                "organization": organization,
                "description": (
                    "がん遺伝子パネル検査の結果をどう治療選択につなげるか。東北の拠点病院の専門医が、"
                    "地域のクリニックの先生方と一緒に考えます。講演後はバーチャル懇親会で同じ地域の先生方と交流できます。"
                ),
                "capacity": 300,
                "registration_opens_at": now - timedelta(days=14),
                "registration_closes_at": start + timedelta(days=7),
                "approval_mode": Event.ApprovalMode.AUTOMATIC,
                "is_published": True,
            },
        )
        event.organizers.add(organizer)
        event.target_regions.set(Region.objects.filter(key="tohoku"))
        event.target_prefectures.set(Prefecture.objects.filter(region_id="tohoku"))
        for index, (title, days, minutes) in enumerate(TALKS):
            begins = start + timedelta(days=days)
            talk, _ = Talk.objects.update_or_create(
                event=event,
                title=title,
                defaults={
                    "starts_at": begins,
                    "ends_at": begins + timedelta(minutes=minutes),
                    # Served by Renkei itself, at the address it serves on (the talk's URL
                    # field takes absolute addresses only), so the demo needs no internet.
                    "stream_url": settings.SITE_URL + static(f"demo-stream/{index + 1}/index.m3u8"),
                },
            )
            talk.speakers.add(speaker)
            self._stage(talk, organizer, index)
        live = self._live_talk(event, speaker, now)
        rng = random.Random(2026)
        created = 0
        prefectures = {p.code: p for p in Prefecture.objects.all()}
        for n, code in enumerate(PREFECTURES, start=1):
            email = f"demo-physician-{n:02d}@example.jp"
            if Registration.objects.filter(event=event, physician__email=email).exists():
                continue
            family = rng.randrange(len(FAMILY))
            given, given_kana = rng.choice(GIVEN)
            register_physician(
                event,
                PhysicianDetails(
                    email=email,
                    full_name=f"{FAMILY[family]} {given}",
                    name_kana=f"{FAMILY_KANA[family]} {given_kana}",
                    specialty=rng.choice(SPECIALTIES),
                    facility_name=f"{place_name(prefectures[code].name_ja)}{'中央病院' if n % 3 == 0 else '内科クリニック'}",
                    facility_type=Physician.FacilityType.HOSPITAL if n % 3 == 0 else Physician.FacilityType.CLINIC,
                    prefecture=prefectures[code],
                ),
                notify=False,
            )
            created += 1
        finished = load_finished_campaign(organization, organizer, speaker)
        total = event.registrations.count()
        sample = event.registrations.filter(status=Registration.Status.APPROVED).order_by("pk").first()
        self.stdout.write(self.style.SUCCESS(f"Demo event: {event.title} ({total} registrations, {created} new)"))
        self.stdout.write(f"  Organizer login: {ORGANIZER[0]} / {ORGANIZER[1]}   (/admin/)")
        self.stdout.write(f"  Contact import:  /organizer/{organization.slug}/contacts/import/")
        self.stdout.write(f"  Speaker login:   {SPEAKER[0]} / {SPEAKER[1]}")
        if sample:
            self.stdout.write(f"  A demo physician's join link: {join_url(sample)}")
        self.stdout.write(
            f"  Live now: {live.title} (/talks/{live.pk}/), until "
            f"{timezone.localtime(live.ends_at):%H:%M} (Japan time); its reception opens by itself then"
        )
        self.stdout.write(
            f"  Finished campaign: {finished.name} ({finished.event.registrations.count()} registrations); "
            f"its event's dashboard: /organizer/events/{finished.event.slug}/dashboard/"
        )

    def _live_talk(self, event: Event, speaker: User, now) -> Talk:
        """The live demo talk, replaced on every run: a fresh stage and a reception not yet opened."""
        from rooms.lecture import stage as stages

        Talk.objects.filter(event=event, title=LIVE_TITLE).delete()
        talk = Talk.objects.create(
            event=event,
            title=LIVE_TITLE,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(minutes=LIVE_MINUTES),
            stream_url=settings.SITE_URL + static("demo-stream/1/index.m3u8"),
        )
        talk.speakers.add(speaker)
        stages.get_or_create_stage(talk)
        stages.go_live(talk)
        return talk

    def _stage(self, talk: Talk, organizer: User, index: int) -> None:
        """Regional lecture rooms, and approved demo slides for the first talk."""
        from rooms.lecture import stage as stages
        from rooms.lecture.sample_pdf import make_pdf
        from rooms.models import Stage

        stage = stages.get_or_create_stage(talk)
        if index == 0 and not stage.slides:
            titles = ["Cancer gene panel testing", "When to order a panel", "Reading the report",
                      "Expert panel", "Referral pathways in Tohoku"]
            stages.replace_slides(talk, "demo-slides.pdf", make_pdf(titles), len(titles))
            stages.approve_slides(talk, organizer)
        Stage.objects.filter(pk=stage.pk).update(room_mode=Stage.RoomMode.REGION)

    def _user(self, username: str, password: str, *, group: str, first: str, last: str) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True}
        )
        if created:
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=group))
        return user
