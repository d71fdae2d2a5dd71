"""The reception's tables: its settings, the seats, and the cards physicians exchange."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Registration, Talk

from ..lecture.models import LectureRoom


class Reception(models.Model):
    """The reception (情報交換会) after a talk: small social rooms of physicians from the same area.

    Set per talk by its organizers. It opens when the speaker ends the talk, at
    the talk's end time (a periodic task), or when an organizer opens it; then
    every connected attendee of every lecture room of the talk is allocated
    together (rooms.reception.allocation) and moved. It closes ``duration_minutes`` later:
    ``closes_at`` is the one source of truth for the timer, so every server
    process can end it for its own connections without asking the others.
    """

    class Strategy(models.TextChoices):
        REGION = "region", _("Same area (prefecture, then region)")
        REGIONAL_MIX = "regional_mix", _("Same area, hospital and clinic mixed")
        SPECIALTY = "specialty", _("Same or related specialty")
        RANDOM = "random", _("Random")

    talk = models.OneToOneField(Talk, on_delete=models.CASCADE, related_name="reception", primary_key=True,
                                verbose_name=_("talk"))
    enabled = models.BooleanField(_("reception after the talk"), default=True)
    strategy = models.CharField(_("how rooms are formed"), max_length=16, choices=Strategy.choices,
                                default=Strategy.REGION)
    room_size = models.PositiveSmallIntegerField(
        _("people per room"), default=6, validators=[MinValueValidator(3), MaxValueValidator(12)]
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=20, validators=[MinValueValidator(5), MaxValueValidator(120)]
    )
    allow_self_select = models.BooleanField(_("attendees may change rooms"), default=False)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("opened by"))
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    seed = models.PositiveIntegerField(_("allocation seed"), default=0)

    class Meta:
        verbose_name = _("reception")
        verbose_name_plural = _("receptions")

    def __str__(self) -> str:
        return str(self.talk)

    def is_open(self, now: datetime | None = None) -> bool:
        return self.opened_at is not None and self.closes_at is not None and (now or timezone.now()) < self.closes_at


class ReceptionTableManager(models.Manager["ReceptionTable"]):
    def get_queryset(self) -> models.QuerySet[ReceptionTable]:
        return super().get_queryset().filter(kind=LectureRoom.Kind.SOCIAL)


class ReceptionTable(LectureRoom):
    """One small table of the reception (バーチャル懇親会): a room of kind ``social``.

    Its own model in the code, the same row in the database: a table's chat is
    persisted, numbered and resumed exactly like a lecture room's, so it keeps
    the lecture room's table (a proxy). Its manager sees tables only, and a
    table made through it is of kind ``social`` whatever the caller passes.
    """

    objects = ReceptionTableManager()

    class Meta:
        proxy = True
        verbose_name = _("reception table")
        verbose_name_plural = _("reception tables")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args:  # a new table (rows read from the database arrive as positional values)
            kwargs["kind"] = LectureRoom.Kind.SOCIAL
        super().__init__(*args, **kwargs)


class Seat(models.Model):
    """A physician's stay at one social room: placed by the allocation, on late arrival, or by choice.

    At most one open seat per registration and talk; moving closes the old seat.
    The CSV export of who was in which room and when reads these.
    """

    class Placed(models.TextChoices):
        ALLOCATED = "allocated", _("Allocated")
        LATE = "late", _("Arrived late")
        CHOSEN = "chosen", _("Chose the room")

    room = models.ForeignKey(LectureRoom, on_delete=models.CASCADE, related_name="seats")
    # Its own index is left out: (registration, left_at) below serves its lookups.
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="seats", db_index=False)
    placed = models.CharField(max_length=16, choices=Placed.choices, default=Placed.ALLOCATED)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["registration", "left_at"])]
        ordering = ["joined_at", "id"]


class CardSettings(models.Model):
    """What a physician puts on their business card (名刺), beyond name, facility, specialty and prefecture.

    Contact details are shared only by an accepted exchange and only those filled
    in here; nothing is shown to anybody before both sides agreed.
    """

    physician = models.OneToOneField("events.Physician", on_delete=models.CASCADE, related_name="card_settings",
                                     primary_key=True)
    email = models.EmailField(_("e-mail on my card"), blank=True)
    phone = models.CharField(_("phone on my card"), max_length=20, blank=True)
    accepts_referrals = models.BooleanField(_("I accept referrals"), default=False)
    message = models.CharField(_("a line about me"), max_length=200, blank=True)
    # The table sees name, facility type and prefecture (as the lecture chat does);
    # the specialty only when the physician agreed to show it.
    show_specialty = models.BooleanField(_("Show my specialty to the people at my reception table"), default=False)
    updated_at = models.DateTimeField(auto_now=True)


class CardExchange(models.Model):
    """One physician's offer of their card to another at a reception table, and the answer.

    Cards are exchanged only when the other accepts: then each gets the other's
    card as it was at that moment (``from_card``, ``to_card``). Organizers see
    only counts by region pair, never the cards.
    """

    class State(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="card_exchanges")
    room = models.ForeignKey(LectureRoom, on_delete=models.CASCADE, related_name="+")
    offered_by = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="cards_offered")
    offered_to = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="cards_received")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OFFERED)
    offered_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    from_card = models.JSONField(default=dict, blank=True)
    to_card = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["talk", "offered_by", "offered_to"], name="one_offer_per_pair")]
        ordering = ["-answered_at", "-offered_at"]
