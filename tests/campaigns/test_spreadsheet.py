"""Exports never hand a spreadsheet program a formula typed into a contact list."""

from __future__ import annotations

from datetime import date

import pytest

from server.spreadsheet import looks_like_formula, safe_cell, safe_row


@pytest.mark.parametrize("text", ["=1+1", "+81 3 1234 5678", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil")'])
def test_text_that_a_spreadsheet_would_evaluate_gets_an_apostrophe_and_keeps_its_text(text: str) -> None:
    assert looks_like_formula(text)
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["佐藤 健一", "a=b", "", None, -3, 2.5, date(2026, 4, 1)])
def test_ordinary_text_numbers_and_dates_pass_unchanged(value: object) -> None:
    assert safe_cell(value) == value


def test_a_row_is_made_safe_cell_by_cell() -> None:
    assert safe_row(["=cmd", "ok", 1]) == ["'=cmd", "ok", 1]
