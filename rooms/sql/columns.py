"""The column lists under the aliases the statements of rooms.sql share (t, e, s, c, r, m, q), and quoting."""

from __future__ import annotations

from django.db import connection

from events import sql
from events.models import Event, Talk

from ..lecture.models import ChatMessage, LectureRoom, Question, Stage
from ..reception.models import Reception

TALK = sql.columns(Talk, "t")
EVENT = sql.columns(Event, "e")
STAGE = sql.columns(Stage, "s")
RECEPTION = sql.columns(Reception, "c")
ROOM = sql.columns(LectureRoom, "r")
MESSAGE = sql.columns(ChatMessage, "m")
QUESTION = sql.columns(Question, "q")


def q(name: str) -> str:
    return connection.ops.quote_name(name)
