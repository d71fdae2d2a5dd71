"""Turn what a person or an import file says about a prefecture into a Prefecture.

Accepted: the JIS code with or without its leading zero ("02", "2"), the Japanese
name with or without its suffix (青森県, 青森; 東京都, 東京; 北海道), and the English
name in any case, with or without macrons or a "-ken" style suffix (Aomori, Kōchi,
Aomori-ken). Full-width characters are folded first (０２ → 02). Anything else is
a ValidationError in the user's language.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .loading import read_rows
from .models import Prefecture

_JA_SUFFIXES = ("都", "道", "府", "県")
_EN_SUFFIX = re.compile(r"[\s-]*(prefecture|ken|fu|to)$")


def _fold(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    # Drop macrons and other diacritics (Kōchi → Kochi) but keep kanji intact.
    decomposed = unicodedata.normalize("NFKD", value)
    value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", value).casefold()


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    # Built from the CSV rather than the database: the names are fixed reference
    # data, and this keeps the index valid whatever a test does to the tables.
    index: dict[str, str] = {}
    for row in read_rows():
        code, name_ja, name_en = row["code"], row["name_ja"], row["name_en"]
        index[code] = code
        index[str(int(code))] = code
        index[_fold(name_ja)] = code
        # 北海道 keeps its 道: "北海" is not a name anyone uses.
        if name_ja != "北海道" and name_ja.endswith(_JA_SUFFIXES):
            index[_fold(name_ja[:-1])] = code
        index[_fold(name_en)] = code
    return index


def _not_a_prefecture(raw: str) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is not a Japanese prefecture. Enter a name such as 青森県 or Aomori, or a code from 01 to 47.")
        % {"value": raw.strip()[:40]},
        code="invalid_prefecture",
    )


def parse_prefecture(value: object) -> Prefecture:
    """Return the prefecture that ``value`` names, or raise ValidationError."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(_("Enter a prefecture."), code="invalid_prefecture")
    raw = str(value)
    # No prefecture name is anywhere near this long; refusing early also keeps
    # the suffix pattern below from seeing pathological input.
    if len(raw) > 40:
        raise _not_a_prefecture(raw)
    folded = _fold(raw)
    if not folded:
        raise ValidationError(_("Enter a prefecture."), code="required")
    index = _index()
    code = index.get(folded)
    if code is None and folded.isascii():
        code = index.get(_EN_SUFFIX.sub("", folded))
    if code is None:
        raise _not_a_prefecture(raw)
    try:
        return Prefecture.objects.select_related("region").get(code=code)
    except Prefecture.DoesNotExist:
        raise ValidationError(_("Prefecture data is not loaded yet; run the load_regions command."), code="no_regions")
