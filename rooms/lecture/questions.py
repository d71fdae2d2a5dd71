"""Questions to the speaker: asking, voting, marking answered."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from events.models import Talk

from .. import frames, sql
from ..outbox import ToTalk, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from .models import LectureRoom, Question, QuestionVote

QUESTIONS = 200  # sent on joining: the most voted


def ask_question(talk: Talk, room: LectureRoom, participant: Participant, body: str) -> Question:
    return _told(Question.objects.create(
        talk=talk, room=room, registration=participant.registration, user=participant.user,
        author={**participant.author, "room": room.key, "room_name": room.name_ja, "room_name_en": room.name_en},
        body=body,
    ))


def upvote(talk: Talk, question_id: int, participant: Participant) -> Question:
    """Add the participant's one vote; refuses a question not in this talk, or a second vote."""
    with transaction.atomic():
        question = Question.objects.select_for_update().filter(pk=question_id, talk=talk).first()
        if question is None:
            raise Refused("not_found", id=question_id)
        try:
            with transaction.atomic():
                QuestionVote.objects.create(question=question, voter=participant.person_key)
        except IntegrityError:
            raise Refused("already_voted", id=question_id) from None
        Question.objects.filter(pk=question.pk).update(votes=F("votes") + 1)
        question.refresh_from_db()
        return _told(question)


def answer_question(talk: Talk, question_id: int, participant: Participant, answered: bool = True) -> Question | None:
    question = Question.objects.filter(pk=question_id, talk=talk).first()
    if question is None:
        return None
    question.answered_at = timezone.now() if answered else None
    question.save(update_fields=["answered_at"])
    return _told(question)


def _told(question: Question) -> Question:
    """Every room of the talk sees the question as it now stands, after the commit."""
    send_event_on_commit(ToTalk(question.talk_id, frames.question(question)))
    return question


def questions_for(talk: Talk) -> list[Question]:
    return sql.questions_for(talk.pk, QUESTIONS)
