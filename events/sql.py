"""Every hand-written SQL statement of the events app, and the row-to-model mapper that rooms.sql shares.

The rule: a statement is written by hand only when the ORM cannot say it or
when docs/performance.md records a measurement saying the ORM's form costs too
much; each statement names its reason. Everything else is the ORM.

Today that is the join path: a mass join at the start of a talk runs the same
handful of lookups thousands of times within seconds. Built with the ORM, each
cost several times more CPU in Django's query compiler than in the database
(docs/performance.md, "Joins, second pass"), so they are written as SQL once per
process. The rows still become ordinary model instances: values pass through
the same converters Django's compiler applies (SQLite's timestamps, JSON), and
columns that were not selected stay deferred, loading on first access like
``.only()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from datetime import datetime
from functools import cache, cached_property

from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model
from django.db.models.expressions import Col

from regions.lookup import prefecture_for

from .models import Event, Physician, Registration, Talk

M = TypeVar("M", bound=Model)


# eq=False: compared and hashed by identity. Each is made once, at import, and keys the per-process
# caches below on every row built; a field-by-field hash of its fields cost more than the lookup.
@dataclass(frozen=True, eq=False)
class Columns:
    """Some columns of one model under a table alias, in the model's field order (what ``from_db`` expects)."""

    model: type[Model]
    alias: str
    fields: tuple[Field, ...]

    @cached_property
    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{connection.ops.quote_name(f.column)}" for f in self.fields)

    @cached_property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]

    @cached_property
    def table(self) -> str:
        return f"{connection.ops.quote_name(self.model._meta.db_table)} {self.alias}"


def columns(model: type[Model], alias: str, wanted: Iterable[str] | None = None) -> Columns:
    """``wanted`` attribute names (``prefecture_id``, not ``prefecture``); all concrete fields when None."""
    names = set(wanted) if wanted is not None else None
    fields = tuple(f for f in model._meta.concrete_fields if names is None or f.attname in names)
    if names is not None and len(fields) != len(names):
        unknown = names - {f.attname for f in fields}
        raise ValueError(f"{model.__name__} has no concrete field(s) {sorted(unknown)}")
    return Columns(model, alias, fields)


@cache
def _converters(field: Field, vendor: str) -> tuple[Callable[..., Any], ...]:
    """What the ORM would apply to ``field``'s raw value on this database, found once per process.

    The backend's converters are bound to the first connection's ``ops``; they
    read only settings shared by every connection of the alias (the time zone).
    Finding them per value was a tenth of a join request's CPU (docs/performance.md, "Issue 13").
    """
    col = Col(field.model._meta.db_table, field)
    return (*connection.ops.get_db_converters(col), *col.get_db_converters(connection))


def convert(value: Any, field: Field) -> Any:
    """A raw column value as the ORM would return it for ``field`` (also for computed columns such as MAX())."""
    converters = _converters(field, connection.vendor)
    if converters:
        col = Col(field.model._meta.db_table, field)
        for converter in converters:
            value = converter(value, col, connection)
    return value


@cache
def _plan(cols: Columns, vendor: str) -> tuple[tuple[int, Col, tuple[Callable[..., Any], ...]], ...]:
    """(position, column, converters) of each of ``cols`` that has converters on this database."""
    return tuple((i, Col(f.model._meta.db_table, f), _converters(f, vendor))
                 for i, f in enumerate(cols.fields) if _converters(f, vendor))


def build(cols: Columns, values: Iterator[Any]) -> Any:
    """The next ``len(cols.fields)`` values of a row as a model instance."""
    row = [next(values) for _ in cols.fields]
    db = connections[DEFAULT_DB_ALIAS]  # once: every access through ``connection`` is a context-local lookup
    for i, col, converters in _plan(cols, db.vendor):
        value = row[i]
        for converter in converters:
            value = converter(value, col, db)
        row[i] = value
    return cols.model.from_db(DEFAULT_DB_ALIAS, cols.attnames, row)


def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def instances(cols: Columns, rows: Iterable[tuple[Any, ...]]) -> list[Any]:
    """Rows that hold exactly ``cols`` as model instances."""
    return [build(cols, iter(row)) for row in rows]


# --- The statements (docs/performance.md, "Joins, second pass": the registration/join-link
# check 11.4 → 8.5 ms of CPU per join in-process, the session read with the room lookups).

def event_ends_sql(event_id: str) -> str:
    """A subquery: when the event ``event_id`` (an SQL expression) ends, its last talk's end (NULL without talks).

    A join link is valid until then plus JOIN_LINK_GRACE (events.joinlinks); every statement that checks one reads it so.
    """
    return f"(SELECT MAX(x.ends_at) FROM {connection.ops.quote_name(Talk._meta.db_table)} x WHERE x.event_id = {event_id})"


# Registration, physician, prefecture, the event's slug and its last talk's end:
# everything a join check and an admitted attendee need, in one statement.
_REGISTRATION = columns(
    Registration, "r", {"id", "event_id", "physician_id", "status", "language", "join_nonce", "join_revoked_at"}
)
_PHYSICIAN = columns(Physician, "p", {"id", "full_name", "facility_type", "specialty", "prefecture_id"})
_EVENT = columns(Event, "e", {"id", "slug"})


@cache
def _admission_sql() -> str:
    return (
        f"SELECT {admission_columns()}, {_EVENT.sql},"
        f" {event_ends_sql('r.event_id')}"
        f" FROM {_REGISTRATION.table}"
        f" JOIN {_PHYSICIAN.table} ON p.id = r.physician_id"
        f" JOIN {_EVENT.table} ON e.id = r.event_id"
        " WHERE r.id = %s"
    )


def registration_for_admission(pk: int) -> Registration | None:
    """The registration with its physician, prefecture and event (slug only), and ``event_ends_at``."""
    rows = fetch(_admission_sql(), [pk])
    if not rows:
        return None
    values = iter(rows[0])
    registration = admission_registration(values)
    assert registration is not None  # the joins are inner: a row has all of it
    registration.event = build(_EVENT, values)
    registration.event_ends_at = convert(next(values), Talk._meta.get_field("ends_at"))
    return registration


# Opening a join link reads only what its rule and its redirect need, as plain values: building the
# registration, its physician and its event as models was a fifth of the link's CPU
# (docs/performance.md, "Issue 13: joins, a fourth pass").
_LINK = columns(Registration, "r", {"event_id", "join_nonce", "join_revoked_at", "status"})


@cache
def _join_link_sql() -> str:
    return (
        f"SELECT {_LINK.sql}, e.{connection.ops.quote_name('slug')},"
        f" {event_ends_sql('r.event_id')}"
        f" FROM {_LINK.table}"
        f" JOIN {_EVENT.table} ON e.id = r.event_id"
        " WHERE r.id = %s"
    )


def join_link_state(pk: int) -> dict[str, Any] | None:
    """A registration's ``event_id``, ``join_nonce``, ``join_revoked_at``, ``status``, its event's
    ``event_slug`` and ``event_ends_at`` (its last talk's end), converted as the ORM would; None when it is gone."""
    rows = fetch(_join_link_sql(), [pk])
    if not rows:
        return None
    values = iter(rows[0])
    state = {f.attname: convert(next(values), f) for f in _LINK.fields}
    state["event_slug"] = next(values)
    state["event_ends_at"] = convert(next(values), Talk._meta.get_field("ends_at"))
    return state


# The same registration read alongside the talk a WebSocket admission opens (rooms.sql.talk_for_admission):
# the join cookie names the registration before the talk is read, so both come in one round trip.

@cache
def admission_columns() -> str:
    """The registration's and its physician's columns that an admission reads (aliases r, p).

    Not the prefecture's: regions.lookup.prefecture_for gives it from the reference data.
    """
    return f"{_REGISTRATION.sql}, {_PHYSICIAN.sql}"


@cache
def admission_joins(event_id: str, candidates: int) -> str:
    """LEFT JOINs adding, to a statement with ``event_id``, the one of ``candidates`` registration ids (parameters) of that event."""
    return (f" LEFT JOIN {_REGISTRATION.table} ON r.event_id = {event_id} AND r.id IN ({', '.join(['%s'] * candidates)})"
            f" LEFT JOIN {_PHYSICIAN.table} ON p.id = r.physician_id")


def admission_registration(values: Iterator[Any]) -> Registration | None:
    """The next admission_columns() of a row as a registration with its physician and prefecture (None: all NULL)."""
    registration_values = [next(values) for _ in _REGISTRATION.fields]
    physician_values = [next(values) for _ in _PHYSICIAN.fields]
    if registration_values[_REGISTRATION.attnames.index("id")] is None:
        return None
    registration = build(_REGISTRATION, iter(registration_values))
    physician = build(_PHYSICIAN, iter(physician_values))
    physician.prefecture = prefecture_for(physician.prefecture_id)
    registration.physician = physician
    return registration


_SESSION = columns(Session, "s")


@cache
def _session_sql() -> str:
    return f"SELECT {_SESSION.sql} FROM {_SESSION.table} WHERE s.session_key = %s AND s.expire_date > %s"


def unexpired_session(session_key: str, now: datetime) -> Session | None:
    rows = fetch(_session_sql(), [session_key, connection.ops.adapt_datetimefield_value(now)])
    return instances(_SESSION, rows)[0] if rows else None


@cache
def _insert_session_sql() -> str:
    names = ", ".join(connection.ops.quote_name(f.column) for f in _SESSION.fields)
    return f"INSERT INTO {connection.ops.quote_name(Session._meta.db_table)} ({names}) VALUES (%s, %s, %s)"


def insert_session(session_key: str, session_data: str, expire_date: datetime) -> None:
    """A new session row, one statement (raises IntegrityError when the key is taken).

    Every join link opens a session: Model.save() and the transaction around it
    (BEGIN, INSERT, COMMIT) cost more than the insert itself (docs/performance.md, "Issue 13").
    """
    values = {"session_key": session_key, "session_data": session_data, "expire_date": expire_date}
    with connection.cursor() as cursor:
        cursor.execute(_insert_session_sql(),
                       [f.get_db_prep_save(values[f.attname], connection) for f in _SESSION.fields])
