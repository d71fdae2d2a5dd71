"""The lecture's tables: the stage, its rooms, chat, questions, attendance and moderation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Registration, Talk


class Stage(models.Model):
    """What every lecture room of a talk shows: the live state, the slides and the current slide.

    The organizer picks how the talk's audience is split into lecture rooms
    (``room_mode``); each room has its own chat and presence, and all share this
    stage. Slides must be approved by an organizer before the talk can go live
    with them (Japanese promotion rules require reviewed materials).
    """

    class RoomMode(models.TextChoices):
        SINGLE = "single", _("One room for everyone")
        REGION = "region", _("One room per region")
        PREFECTURE = "prefecture", _("One room per prefecture")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    talk = models.OneToOneField(Talk, on_delete=models.CASCADE, related_name="stage", primary_key=True,
                                verbose_name=_("talk"))
    room_mode = models.CharField(_("lecture rooms"), max_length=16, choices=RoomMode.choices, default=RoomMode.REGION)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SCHEDULED)
    went_live_at = models.DateTimeField(_("went live at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    slides = models.FileField(_("slides (PDF)"), upload_to="slides/%Y/%m/", blank=True)
    slide_count = models.PositiveIntegerField(_("number of slides"), default=0)
    slides_approved_at = models.DateTimeField(_("slides approved at"), null=True, blank=True)
    slides_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("slides approved by"),
    )
    current_slide = models.PositiveIntegerField(_("current slide"), default=1)
    chat_open = models.BooleanField(_("chat open"), default=True)
    pinned = models.CharField(_("pinned announcement"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return str(self.talk)

    @property
    def slides_approved(self) -> bool:
        return bool(self.slides and self.slides_approved_at)


class LectureRoom(models.Model):
    """One chat-and-presence room of a talk.

    A lecture room (``kind = lecture``) holds everyone, one region block, or one
    prefecture while the talk runs. A social room (``kind = social``) is one
    small table of the reception (バーチャル懇親会) after it; it is the same
    kind of room so that its chat is persisted, numbered and resumed exactly
    like lecture chat.

    ``last_seq`` hands out chat ids: each room's messages are numbered 1, 2, 3…
    with no gaps, which is what lets a reconnecting client ask for exactly what
    it missed.
    """

    class Kind(models.TextChoices):
        LECTURE = "lecture", _("Lecture room")
        SOCIAL = "social", _("Social room")

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="lecture_rooms")
    key = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LECTURE)
    name_ja = models.CharField(max_length=32)
    name_en = models.CharField(max_length=32)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["talk", "key"], name="one_room_per_key")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.talk} / {self.name_ja}"

    @property
    def is_table(self) -> bool:
        """A reception table (rooms.reception.models.ReceptionTable), not a lecture room."""
        return self.kind == self.Kind.SOCIAL


class ChatMessage(models.Model):
    """A chat message in one lecture room. The author is snapshotted as shown at the time."""

    # The foreign keys' own indexes are left out: (room, seq) and the two (author, sent_at)
    # indexes below serve their lookups, and each index is paid on every insert.
    room = models.ForeignKey(LectureRoom, on_delete=models.CASCADE, related_name="messages", db_index=False)
    seq = models.PositiveBigIntegerField()
    registration = models.ForeignKey(Registration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_index=False)
    author = models.JSONField()
    body = models.TextField()
    client_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "seq"], name="one_seq_per_room")]
        # The chat rate limit counts an author's messages of the last seconds: these find
        # them directly, whatever the number of rooms (a reception has hundreds).
        indexes = [
            models.Index(fields=["registration", "sent_at"], name="chat_by_registration_recent"),
            models.Index(fields=["user", "sent_at"], name="chat_by_user_recent"),
        ]
        ordering = ["room", "seq"]


class Question(models.Model):
    """A question to the speaker. Q&A belongs to the whole talk; the room says where it came from."""

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="questions")
    room = models.ForeignKey(LectureRoom, on_delete=models.CASCADE, related_name="questions")
    registration = models.ForeignKey(Registration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.JSONField()
    body = models.TextField()
    votes = models.PositiveIntegerField(default=0)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-votes", "asked_at"]


class QuestionVote(models.Model):
    """One up-vote per person per question (``voter`` is "r<registration id>" or "u<user id>")."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="vote_rows")
    voter = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "voter"], name="one_vote_per_person")]


class Attendance(models.Model):
    """One WebSocket connection's stay in a talk (a 視聴ログ interval).

    Several tabs and reconnects give overlapping intervals; minutes watched is
    the length of their union (see rooms.lecture.attendance).
    """

    # Its own index is left out: (talk, registration, joined_at) below serves its lookups, and
    # every join inserts a row here and every reception opening updates thousands.
    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="attendance", db_index=False)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="attendance")
    room = models.ForeignKey(LectureRoom, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # A physician's connections to a talk in the order they opened: what merging them reads.
            models.Index(fields=["talk", "registration", "joined_at"], include=["left_at"],
                         name="rooms_attendance_intervals"),
            # The connections still open: few at any time, and what the dashboard must merge itself.
            models.Index(fields=["talk", "registration"], condition=models.Q(left_at__isnull=True),
                         name="rooms_attendance_open"),
        ]


class ClosedWatchTime(models.Model):
    """Per registration and talk: how long the physician's *closed* connections cover (the union of their intervals).

    Rule: ``microseconds`` is always rooms.lecture.attendance.watched() of the pair's
    Attendance rows that have a ``left_at``; a pair without closed rows has no
    row here. rooms.lecture.watch_times.refresh() recomputes it, and every writer of
    Attendance calls it: saving a row with an end (a post_save receiver), and
    the three that close rows with update() (connections.close_attendance, the
    reception opening, and the sealing of talks ended for good,
    watch_times.seal_finished). A connection opening changes nothing here. Attendance
    rows are deleted with their talk or registration, which take these rows
    with them, or by the retention purge (campaigns.privacy), which keeps these
    rows: after it they are the only record of the minutes watched.

    The regional dashboard reads it instead of merging a million intervals on
    every request; pairs that still have an open connection it merges itself,
    because where an open connection stops counting depends on the moment asked.
    """

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="+", db_index=False)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    microseconds = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["talk", "registration"], name="rooms_closedwatchtime_once")]


class Mute(models.Model):
    """An attendee who may not chat in a talk until ``until``."""

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="mutes")
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()


class ModerationLog(models.Model):
    """Who did what to a talk's chat, and when: every moderation action is recorded."""

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="moderation_log", verbose_name=_("talk"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=32)
    details = models.JSONField(_("details"), default=dict)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        # The admin's page title for an entry: which talk and when (Japan time), not "ModerationLog object (1)".
        return f"{self.talk} ({timezone.localtime(self.at):%Y-%m-%d %H:%M})"
