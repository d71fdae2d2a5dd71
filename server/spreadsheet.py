"""Cells that are safe to open in Excel, LibreOffice or Google Sheets.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read as a formula by spreadsheet programs ("CSV injection"): a name
such as ``=HYPERLINK("http://…")`` in an imported contact list would become a
live link, or worse, in the organizer's export. Imports keep such text as it
was typed (it may be a real name or a phone number like ``+81…``); every export,
CSV or .xlsx, passes each cell through :func:`safe_cell`, the one place that
decides what is neutralised.
"""

from __future__ import annotations

from typing import Any

# What spreadsheet programs treat as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """True when ``value`` is text that a spreadsheet would evaluate as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV or .xlsx cell: text that would be a formula gets a leading apostrophe.

    The apostrophe is Excel's own "this is text" mark, so the organizer still
    reads what was typed. Numbers, dates and None pass unchanged (a negative
    number is a number, not a formula).
    """
    if looks_like_formula(value):
        return "'" + value
    return value


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    """:func:`safe_cell` applied to every cell of a row."""
    return [safe_cell(value) for value in values]
