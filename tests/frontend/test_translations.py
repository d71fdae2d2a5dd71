"""Every UI string has a Japanese translation, and the committed catalog is compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "frontend" / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = [("tests/**", "ignore"), ("scripts/**", "ignore"), ("**/migrations/**", "ignore"),
           ("**.py", "python"), ("frontend/jinja2/**.html", "jinja2"), ("frontend/jinja2/**.txt", "jinja2")]


def catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="ja")


def source_msgids() -> set[str]:
    found = set()
    jinja = {"extensions": "jinja2.ext.i18n"}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords=KEYWORDS,
        options_map={"frontend/jinja2/**.html": jinja, "frontend/jinja2/**.txt": jinja},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    assert len(found) > 100, "the extraction found too little: is the method map right?"
    return found


def test_every_ui_string_in_the_code_is_in_the_japanese_catalog():
    ids = {m.id for m in catalog() if m.id}
    missing = sorted(source_msgids() - ids)
    assert not missing, "run scripts/messages and translate: " + repr(missing[:10])


def test_every_string_in_the_catalog_is_translated_and_keeps_its_placeholders():
    for message in catalog():
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        placeholders = set(re.findall(r"%\(\w+\)[sd]", message.id))
        assert placeholders == set(re.findall(r"%\(\w+\)[sd]", message.string)), message.id


def test_the_compiled_catalog_matches_the_po_file():
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for message in catalog():
        if message.id:
            assert compiled.gettext(message.id) == message.string, f"recompile (scripts/messages): {message.id!r}"
