"""The demo's finished Tohoku campaign: contacts, an audience, mails that went out, and what came of them.

``load_demo`` calls :func:`load_finished_campaign` on every start, so that an
organizer's dashboards are full on first sight: an event that ended a few
weeks ago, targeted at Tohoku, invited by a campaign to the audience
"東北 医師少数県" (Tohoku's physician-shortage prefectures), with its
invitation, reminder and four follow-ups sent, the clicks on them, the
registrations they brought (and those that came another way), who watched how
long, the reception's tables and the cards exchanged there.

Rules:

- the same demo every time: one fixed random seed, and every draw made in an
  order that does not depend on the database;
- made once: a later start finds the campaign and does nothing, until its
  event ended more than ``REFRESH_AFTER`` ago; then the event (and with it the
  campaign, registrations and viewing log) is made again for the new date, so
  the demo keeps showing a campaign of a few weeks ago. Contacts are kept;
- lawful like a real send (特定電子メール法): deliveries go only to the
  audience's contacts with recorded consent and no opt-out
  (``Contact.objects.sendable``), a reminder skips those already registered,
  a follow-up goes only to its segment.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from events.demo_names import FAMILY, FAMILY_KANA, GIVEN, SPECIALTIES, place_name
from events.models import Event, Physician, Talk
from regions.models import Prefecture

from .audiences import audience_contacts
from .demo_event import FINISHED_SLUG, DemoPerson, Outcome, Signup, hold_talk, local, make_event, register
from .models import Attribution, Audience, Campaign, CampaignMail, Contact, Delivery, Organization, OptOut

CAMPAIGN_SLUG = "tohoku-irae-2026"
CAMPAIGN_NAME = "東北 医師少数県 irAE 講演会のご案内"
AUDIENCE_NAME = "東北 医師少数県"
SEED = 20261010
DAYS_AGO = 21
REFRESH_AFTER = timedelta(days=60)
# Contacts per Tohoku prefecture; the rest of the list is spread over Japan.
TOHOKU_CONTACTS = {"02": 40, "03": 45, "04": 45, "05": 30, "06": 30, "07": 40}
CONTACTS = 400
# Elsewhere, roughly by how many physicians work there (1 for the prefectures not named).
OTHER_WEIGHTS = {"13": 8, "01": 5, "14": 4, "15": 4, "27": 4, "11": 3, "12": 3, "08": 3, "23": 3, "40": 3}
# Registrants who were never on the list: they heard of the event from a colleague or a society.
GUESTS = 15
CONSENT_RATE = 0.93
CONSENT_SOURCES = ["東北腫瘍内科セミナー 参加申込フォーム", "学会ブースでの同意書", "Renkei 講演会 登録時のメール受信同意",
                   "病院訪問時の同意書"]
FACILITIES = [("内科クリニック", Physician.FacilityType.CLINIC), ("中央病院", Physician.FacilityType.HOSPITAL),
              ("市民病院", Physician.FacilityType.HOSPITAL), ("消化器内科医院", Physician.FacilityType.CLINIC),
              ("総合病院", Physician.FacilityType.HOSPITAL), ("ファミリークリニック", Physician.FacilityType.CLINIC)]
OPT_OUTS = 3
# How those not brought by a mail of their own heard of it: (utm_source, utm_medium, utm_campaign) or None.
CHANNELS: list[tuple[tuple[str, str, str] | None, int]] = [
    (("society-newsletter", "email", CAMPAIGN_SLUG), 4), (("hospital-intranet", "referral", ""), 1), (None, 3),
]
Kind = CampaignMail.Kind
MAILS = {
    Kind.INVITATION: ("【ご案内】東北 がん免疫療法 Web講演会 — irAE を地域で診る",
                      "先生方の地域で、免疫チェックポイント阻害薬の副作用にどう気づき、いつ紹介するか。"
                      "講演後は同じ地域の先生方とのバーチャル懇親会があります。"),
    Kind.REMINDER: ("【開催まであと1週間】irAE Web講演会のご案内",
                    "お申し込みがまだの先生へ、もう一度ご案内します。"),
    Kind.ATTENDED: ("ご視聴ありがとうございました(irAE Web講演会)",
                    "ご視聴ありがとうございました。講演資料をお送りします。"),
    Kind.NO_SHOW: ("irAE Web講演会: ご都合がつかなかった先生へ",
                   "当日ご覧になれなかった先生へ、講演の要点と次回のご案内をお送りします。"),
    Kind.LEFT_EARLY: ("irAE Web講演会: 後半の要点",
                      "途中でご退出された先生へ、後半の要点をお送りします。"),
    Kind.RECEPTION: ("懇親会へのご参加ありがとうございました",
                     "懇親会で交換された名刺は、登録時のリンクからいつでも見られます。"),
}


def load_finished_campaign(organization: Organization, organizer: Any, speaker: Any,
                           now: datetime | None = None) -> Campaign:
    """The demo's finished campaign, made now unless a recent enough one is there (see the module's rules)."""
    now = timezone.localtime(now)
    with transaction.atomic():
        campaign = (Campaign.objects.filter(organization=organization, slug=CAMPAIGN_SLUG, event__slug=FINISHED_SLUG)
                    .select_related("event").first())
        if campaign is not None:
            ended = Talk.objects.filter(event=campaign.event).aggregate(last=Max("ends_at"))["last"]
            if ended is not None and now - ended < REFRESH_AFTER:
                return campaign
        Campaign.objects.filter(organization=organization, slug=CAMPAIGN_SLUG).delete()
        Event.objects.filter(slug=FINISHED_SLUG).delete()
        return _build(organization, organizer, speaker, now)


def _build(organization: Organization, organizer: Any, speaker: Any, now: datetime) -> Campaign:
    rng = random.Random(SEED)
    people = _people(rng, now)
    on_list, guests = people[:CONTACTS], people[CONTACTS:]
    starts_at = local(now - timedelta(days=DAYS_AGO), 19)
    audience = _audience(organization)
    _ensure_contacts(organization, on_list, audience, opted_out_at=starts_at - timedelta(days=40))
    talk = make_event(organization, organizer, speaker, starts_at)
    campaign = Campaign.objects.create(event=talk.event, audience=audience, name=CAMPAIGN_NAME, slug=CAMPAIGN_SLUG)
    Campaign.objects.filter(pk=campaign.pk).update(created_at=starts_at - timedelta(days=23))
    mails = _mails(campaign, starts_at)
    by_email = {person.email: person for person in people}
    # Fixed now, as a real send fixes its recipients: consent recorded, not opted out. Only the demo's
    # own contacts: a list imported into the demo organization later was not there when the mail went.
    sendable = sorted(audience_contacts(audience).sendable().filter(email__in=[p.email for p in on_list]),
                      key=lambda contact: contact.email)

    invited = _send(mails[Kind.INVITATION], sendable, rng, click_rate=0.42, mean_hours=10, max_hours=140)
    signups = _mail_signups(invited, by_email, rng, rate=0.68)
    registered = {signup.person.email for signup in signups}
    mailed = {contact.email for contact in sendable}
    targeted = set(audience_contacts(audience).values_list("prefecture_id", flat=True).distinct())
    others = _other_signups([p for p in on_list if p.email not in registered], guests, mailed, targeted,
                            starts_at, rng)
    # The reminder skips everyone registered when it goes out, whichever way they came.
    reminder_at = mails[Kind.REMINDER].started_at
    registered |= {signup.person.email for signup in others if signup.at < reminder_at}
    reminded = _send(mails[Kind.REMINDER], [c for c in sendable if c.email not in registered], rng,
                     click_rate=0.3, mean_hours=8, max_hours=110)
    came_otherwise = {signup.person.email for signup in others}
    signups += [signup for signup in _mail_signups(reminded, by_email, rng, rate=0.6)
                if signup.person.email not in came_otherwise]
    signups = sorted(signups + others, key=lambda signup: signup.at)

    registrations = register(talk.event, signups)
    _attribute(campaign, registrations, signups)
    outcome = hold_talk(talk, registrations, {r.pk: s.person for r, s in zip(registrations, signups, strict=True)},
                        rng)
    emails = {r.pk: s.person.email for r, s in zip(registrations, signups, strict=True) if not s.cancelled}
    for kind, segment, click_rate in _segments(outcome, set(emails)):
        addresses = {emails[pk] for pk in segment}
        _send(mails[kind], [c for c in sendable if c.email in addresses], rng, click_rate=click_rate,
              mean_hours=12, max_hours=160)
    return campaign


def _people(rng: random.Random, now: datetime) -> list[DemoPerson]:
    """The demo organization's contacts (CONTACTS of them, most in Tohoku), then GUESTS not on its list."""
    prefectures = {p.code: p for p in Prefecture.objects.order_by("code")}
    elsewhere = [code for code in prefectures if code not in TOHOKU_CONTACTS]
    weights = [OTHER_WEIGHTS.get(code, 1) for code in elsewhere]
    codes = [code for code, count in TOHOKU_CONTACTS.items() for _ in range(count)]
    codes += rng.choices(elsewhere, weights=weights, k=CONTACTS - len(codes))
    rng.shuffle(codes)
    codes += rng.choices([*TOHOKU_CONTACTS, *elsewhere], weights=[6] * len(TOHOKU_CONTACTS) + weights, k=GUESTS)
    people = []
    for n, code in enumerate(codes, start=1):
        family = rng.randrange(len(FAMILY))
        given, given_kana = rng.choice(GIVEN)
        suffix, facility_type = rng.choice(FACILITIES)
        if n > CONTACTS:
            email = f"demo-guest-{n - CONTACTS:02d}@example.jp"
        else:
            # A few addresses at reserved names that no mail server answers, as lists from CRMs have.
            email = f"demo-contact-{n:03d}@" + ("clinic.invalid" if n % 11 == 0 else "example.jp")
        person = DemoPerson(email=email, full_name=f"{FAMILY[family]} {given}",
                            name_kana=f"{FAMILY_KANA[family]} {given_kana}", prefecture=code,
                            facility_name=place_name(prefectures[code].name_ja) + suffix,
                            facility_type=facility_type, specialty=rng.choice(SPECIALTIES))
        if rng.random() < CONSENT_RATE:
            person.consent_date = (now - timedelta(days=rng.randint(60, 900))).date()
            person.consent_source = rng.choice(CONSENT_SOURCES)
        people.append(person)
    return people


def _audience(organization: Organization) -> Audience:
    audience, _ = Audience.objects.get_or_create(organization=organization, name=AUDIENCE_NAME,
                                                 defaults={"shortage_only": True})
    audience.regions.set(["tohoku"])
    return audience


def _ensure_contacts(organization: Organization, people: list[DemoPerson], audience: Audience,
                     opted_out_at: datetime) -> None:
    """The contacts (an address already on the list is left as it is), and a few opt-outs in the audience."""
    Contact.objects.bulk_create(
        [Contact(organization=organization, email=p.email, full_name=p.full_name, name_kana=p.name_kana,
                 prefecture_id=p.prefecture, facility_name=p.facility_name, facility_type=p.facility_type,
                 specialty=p.specialty, consent_date=p.consent_date, consent_source=p.consent_source)
         for p in people],
        ignore_conflicts=True,
    )
    targeted = set(audience_contacts(audience).values_list("email", flat=True))
    consented = [p.email for p in people if p.consent_date and p.email in targeted]
    opted_out = consented[5::60][:OPT_OUTS]
    OptOut.objects.bulk_create([OptOut(organization=organization, email=email, source=OptOut.Source.LINK)
                                for email in opted_out], ignore_conflicts=True)
    OptOut.objects.filter(organization=organization, email__in=opted_out).update(created_at=opted_out_at)


def _mails(campaign: Campaign, starts_at: datetime) -> dict[str, CampaignMail]:
    """The campaign's six mails, all sent: three weeks and one week before the talk, and the day after it."""
    after = local(starts_at + timedelta(days=1), 10)
    when = {Kind.INVITATION: local(starts_at - timedelta(days=21), 10),
            Kind.REMINDER: local(starts_at - timedelta(days=7), 10),
            Kind.ATTENDED: after, Kind.NO_SHOW: after, Kind.LEFT_EARLY: after,
            Kind.RECEPTION: after + timedelta(minutes=30)}
    mails = CampaignMail.objects.bulk_create([
        CampaignMail(campaign=campaign, kind=kind, subject=subject, body=body, scheduled_at=when[kind],
                     status=CampaignMail.Status.SENT, started_at=when[kind],
                     finished_at=when[kind] + timedelta(minutes=2))
        for kind, (subject, body) in MAILS.items()
    ])
    for mail in mails:
        mail.created_at = mail.scheduled_at - timedelta(days=2)
    CampaignMail.objects.bulk_update(mails, ["created_at"])
    return {mail.kind: mail for mail in mails}


def _send(mail: CampaignMail, contacts: list[Contact], rng: random.Random, *, click_rate: float,
          mean_hours: float, max_hours: float) -> list[Delivery]:
    """Deliveries of ``mail`` to ``contacts``, all sent, ``click_rate`` of them clicked within ``max_hours``."""
    deliveries = []
    for n, contact in enumerate(contacts):
        sent_at = mail.started_at + timedelta(seconds=1 + n // 20)
        delivery = Delivery(mail=mail, contact=contact, email=contact.email, prefecture_id=contact.prefecture_id,
                            status=Delivery.Status.SENT, claimed_at=sent_at, sent_at=sent_at)
        if rng.random() < click_rate:
            hours = min(rng.expovariate(1 / mean_hours), max_hours)
            delivery.first_clicked_at = sent_at + timedelta(hours=hours, minutes=rng.randint(1, 30))
            delivery.clicks = rng.choice((1, 1, 1, 2, 2, 3))
        deliveries.append(delivery)
    return Delivery.objects.bulk_create(deliveries)


def _mail_signups(deliveries: list[Delivery], people: dict[str, DemoPerson], rng: random.Random,
                  rate: float) -> list[Signup]:
    """``rate`` of those who clicked register, a few minutes after their click."""
    return [Signup(person=people[d.email], at=d.first_clicked_at + timedelta(minutes=rng.randint(2, 15)), delivery=d)
            for d in deliveries if d.first_clicked_at is not None and rng.random() < rate]


def _other_signups(contacts: list[DemoPerson], guests: list[DemoPerson], mailed: set[str], targeted: set[str],
                   starts_at: datetime, rng: random.Random) -> list[Signup]:
    """Registrations that no mail of this campaign brought: the society's newsletter, a colleague, the event page."""
    opens, newsletter = starts_at - timedelta(days=24), local(starts_at - timedelta(days=14), 8)
    signups = []
    for person, listed in [(p, True) for p in contacts] + [(p, False) for p in guests]:
        if not listed:
            rate = 1.0
        elif person.email in mailed:
            rate = 0.04  # invited, and came by the newsletter after all
        elif person.prefecture in TOHOKU_CONTACTS:
            rate = 0.3 if person.prefecture in targeted else 0.25
        else:
            rate = 0.12
        if rng.random() >= rate:
            continue
        channel = rng.choices([c for c, _w in CHANNELS], weights=[w for _c, w in CHANNELS])[0]
        if channel is not None and channel[0] == "society-newsletter":
            at = newsletter + timedelta(hours=min(rng.expovariate(1 / 30), 300))
        else:
            at = opens + timedelta(minutes=rng.randint(60, int((starts_at - opens).total_seconds() // 60) - 60))
        signups.append(Signup(person=person, at=min(at, starts_at - timedelta(minutes=30)), utm=channel,
                              cancelled=rng.random() < 0.04))
    return signups


def _attribute(campaign: Campaign, registrations: list[Any], signups: list[Signup]) -> None:
    """Attribution rows as the registration page writes them: the delivery, or the public link's UTM tags."""
    rows, times = [], []
    for registration, signup in zip(registrations, signups, strict=True):
        if signup.delivery is not None:
            rows.append(Attribution(registration=registration, campaign=campaign, delivery=signup.delivery))
        elif signup.utm is not None:
            source, medium, tag = signup.utm
            rows.append(Attribution(registration=registration, campaign=campaign if tag == campaign.slug else None,
                                    utm_source=source, utm_medium=medium, utm_campaign=tag))
        else:
            continue
        times.append(signup.at)
    rows = Attribution.objects.bulk_create(rows)
    # auto_now_add stamped them "now"; each was written when its registration was made.
    for row, at in zip(rows, times, strict=True):
        row.created_at = at
    Attribution.objects.bulk_update(rows, ["created_at"])


def _segments(outcome: Outcome, counted: set[int]) -> list[tuple[str, set[int], float]]:
    """Each follow-up's registrations (the rules of campaigns.models.CampaignMail) and its click rate."""
    attended = outcome.attended() & counted
    return [(Kind.ATTENDED, attended, 0.45), (Kind.NO_SHOW, counted - attended, 0.3),
            (Kind.LEFT_EARLY, outcome.left_early() & counted, 0.35), (Kind.RECEPTION, outcome.seated & counted, 0.5)]
