"""The Jinja2 environment every Renkei page and e-mail renders with."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from jinja2 import Environment, select_autoescape

from events.roles import display_name


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def local_datetime(value: Any, fmt: str = "DATETIME_FORMAT") -> str:
    if value is None:
        return ""
    return date_format(timezone.localtime(value), fmt)


# A date people can place at a glance: 「12月6日(日) 19:00」, "Sun 6 Dec 19:00".
WHEN_FORMATS = {"ja": "n月j日(D) H:i", "en": "D j M H:i"}


def local_when(value: Any) -> str:
    """Date, weekday and time in the site's time zone (Japan time), written as the page's language writes it."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), WHEN_FORMATS.get((translation.get_language() or "ja")[:2], WHEN_FORMATS["ja"]))


def environment(**options: Any) -> Environment:
    # Pages escape user text; plain-text mails must show it as typed (a name
    # with "<" is not HTML there), so escaping follows the file extension.
    options["autoescape"] = select_autoescape(
        enabled_extensions=("html", "xml"), disabled_extensions=("txt",), default_for_string=True, default=True
    )
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext, translation.ngettext, newstyle=True,
        pgettext=translation.pgettext, npgettext=translation.npgettext,
    )
    env.globals.update(
        {
            "static": static,
            "url": url,
            "csrf_token_for": get_token,
            "get_language": translation.get_language,
            "languages": settings.LANGUAGES,
            "site_url": settings.SITE_URL,
        }
    )
    env.filters["localdt"] = local_datetime
    env.filters["localwhen"] = local_when
    env.filters["person_name"] = display_name
    return env
