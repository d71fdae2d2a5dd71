"""Hand-written SELECTs for the few lookups on the join path.

A mass join at the start of a talk runs the same handful of lookups thousands of
times within seconds. Built with the ORM, each costs several times more CPU in
Django's query compiler than in the database (docs/performance.md), so these are
written as SQL once per process. The rows still become ordinary model instances:
values pass through the same converters Django's compiler applies (SQLite's
timestamps, JSON), and columns that were not selected stay deferred, loading on
first access like ``.only()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Columns:
    """Some columns of one model under a table alias, in the model's field order (what ``from_db`` expects)."""

    model: type[Model]
    alias: str
    fields: tuple[Field, ...]

    @property
    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{connection.ops.quote_name(f.column)}" for f in self.fields)

    @property
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


def _converters(field: Field) -> list[Callable[..., Any]]:
    col = Col(field.model._meta.db_table, field)
    return [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]


def convert(value: Any, field: Field) -> Any:
    """A raw column value as the ORM would return it for ``field`` (also for computed columns such as MAX())."""
    col = Col(field.model._meta.db_table, field)
    for converter in _converters(field):
        value = converter(value, col, connection)
    return value


def build(cols: Columns, values: Iterator[Any]) -> Any:
    """The next ``len(cols.fields)`` values of a row as a model instance."""
    attnames = [f.attname for f in cols.fields]
    converted = [convert(next(values), f) for f in cols.fields]
    return cols.model.from_db(connection.alias, attnames, converted)


def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def instances(cols: Columns, rows: Iterable[tuple[Any, ...]]) -> list[Any]:
    """Rows that hold exactly ``cols`` as model instances."""
    return [build(cols, iter(row)) for row in rows]
