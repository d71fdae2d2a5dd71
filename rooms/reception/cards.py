"""Card exchange (名刺交換) at a reception table: offered by one, shared only when the other accepts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Registration, Talk
from events.specialties import SPECIALTY_LABELS

from .. import frames
from ..lecture.models import LectureRoom
from ..outbox import ToPeople, send_event_on_commit
from ..profiles import Profile
from ..refused import Refused
from .models import CardExchange, CardSettings, Seat

OFFER_RATE = (10, 60.0)  # at most 10 card offers a minute per person


def card_of(registration: Registration) -> dict[str, Any]:
    """A physician's card as the other side receives it: what they chose to share, and nothing else."""
    physician = registration.physician
    settings = CardSettings.objects.filter(physician=physician).first()
    prefecture = physician.prefecture
    card: dict[str, Any] = {
        "registration": registration.pk,
        "name": physician.full_name,
        "facility_name": physician.facility_name,
        "facility_type": physician.facility_type,
        "specialty": physician.specialty,
        "specialty_label": str(SPECIALTY_LABELS.get(physician.specialty, "")),
        "prefecture": prefecture.code,
        "prefecture_name": prefecture.name_ja,
        "prefecture_name_en": prefecture.name_en,
        "accepts_referrals": bool(settings and settings.accepts_referrals),
    }
    if settings:
        for key in ("email", "phone", "message"):
            if getattr(settings, key):
                card[key] = getattr(settings, key)
    return card


def _seated_together(room: LectureRoom, a: Registration, b_id: int) -> bool:
    seated = set(Seat.objects.filter(room=room, left_at__isnull=True).values_list("registration_id", flat=True))
    return a.pk in seated and b_id in seated


def offer(talk: Talk, room: LectureRoom, by: Registration, to_id: int) -> CardExchange:
    """Offer one's card to somebody at the same table (only they hear who offers); refused for anyone else."""
    if not room.is_table:
        raise Refused("not_in_room")
    if to_id == by.pk:
        raise Refused("bad_field", field="to")
    if not _seated_together(room, by, to_id):
        raise Refused("not_at_table", to=to_id)
    try:
        with transaction.atomic():
            exchange = CardExchange.objects.create(talk=talk, room=room, offered_by=by, offered_to_id=to_id)
            author = frames.profile(Profile.of(by, role="attendee"))
            send_event_on_commit(ToPeople(talk.pk, room.pk, (to_id,), frames.card_offered(exchange, author)))
            return exchange
    except IntegrityError:
        raise Refused("already_offered", to=to_id) from None


def answer(talk: Talk, exchange_id: int, by: Registration, accept: bool) -> CardExchange:
    """The receiver accepts (each side gets the other's card, and only now) or declines (nothing is shared)."""
    with transaction.atomic():
        exchange = (
            CardExchange.objects.select_for_update()
            .select_related("offered_by__physician__prefecture", "offered_to__physician__prefecture")
            .filter(pk=exchange_id, talk=talk, offered_to=by, state=CardExchange.State.OFFERED)
            .first()
        )
        if exchange is None:
            raise Refused("not_found", id=exchange_id)
        exchange.answered_at = timezone.now()
        if accept:
            exchange.state = CardExchange.State.ACCEPTED
            exchange.from_card = card_of(exchange.offered_by)
            exchange.to_card = card_of(exchange.offered_to)
        else:
            exchange.state = CardExchange.State.DECLINED
        exchange.save(update_fields=["state", "answered_at", "from_card", "to_card"])
        for event in _answered(talk, exchange, accept):
            send_event_on_commit(event)
        return exchange


def _answered(talk: Talk, exchange: CardExchange, accepted: bool) -> list[ToPeople]:
    def to(registration_id: int, frame: dict[str, Any]) -> ToPeople:
        return ToPeople(talk.pk, exchange.room_id, (registration_id,), frame)

    if not accepted:
        return [to(exchange.offered_by_id, frames.card_declined(exchange))]
    return [to(exchange.offered_by_id, frames.card_exchanged(exchange, exchange.to_card)),
            to(exchange.offered_to_id, frames.card_exchanged(exchange, exchange.from_card))]


def collected(physician_id: int) -> list[dict[str, Any]]:
    """The cards a physician received through accepted exchanges, newest first, with where they met."""
    cards = []
    exchanges = CardExchange.objects.filter(state=CardExchange.State.ACCEPTED).select_related("talk", "room")
    for exchange in exchanges.filter(offered_by__physician_id=physician_id):
        if exchange.to_card.get("withdrawn"):  # its owner had their data deleted (campaigns.privacy)
            continue
        cards.append({"card": exchange.to_card, "talk": exchange.talk, "room": exchange.room, "at": exchange.answered_at})
    for exchange in exchanges.filter(offered_to__physician_id=physician_id):
        if exchange.from_card.get("withdrawn"):
            continue
        cards.append({"card": exchange.from_card, "talk": exchange.talk, "room": exchange.room, "at": exchange.answered_at})
    return sorted(cards, key=lambda c: c["at"], reverse=True)


def pair_counts(talk: Talk) -> list[dict[str, Any]]:
    """Accepted exchanges by region pair (facility type and prefecture of each side), never the cards."""
    counts: Counter[tuple[tuple[str, str], tuple[str, str]]] = Counter()
    rows = CardExchange.objects.filter(talk=talk, state=CardExchange.State.ACCEPTED).values_list(
        "offered_by__physician__facility_type", "offered_by__physician__prefecture_id",
        "offered_to__physician__facility_type", "offered_to__physician__prefecture_id",
    )
    for a_type, a_pref, b_type, b_pref in rows:
        pair = tuple(sorted([(a_type, a_pref), (b_type, b_pref)]))
        counts[pair] += 1  # type: ignore[index]
    return [
        {"a": {"facility_type": a[0], "prefecture": a[1]}, "b": {"facility_type": b[0], "prefecture": b[1]}, "count": n}
        for (a, b), n in counts.most_common()
    ]
