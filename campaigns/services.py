"""The verbs of campaigns: what views, admin actions and commands call."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .importing import ImportReport, UnusableFile, import_contacts
from .models import DEMO_ORGANIZATION_SLUG, Organization

DEMO_ORGANIZATION = {
    "name": "Renkei デモ組織",
    "postal_address": "〒100-0001 東京都千代田区(デモ用の住所です)",
    "contact_email": "demo@renkei.example",
}


def ensure_demo_organization(*members: Any) -> Organization:
    """The demo organization (made by events migration 0004 or here), with ``members`` added."""
    organization, _ = Organization.objects.get_or_create(slug=DEMO_ORGANIZATION_SLUG, defaults=DEMO_ORGANIZATION)
    organization.members.add(*members)
    return organization


def organizations_of(user: Any) -> Any:
    """The organizations whose data ``user`` may see: their memberships (superusers: all)."""
    qs = Organization.objects.all()
    return qs if user.is_superuser else qs.filter(members=user)


# ---------------------------------------------------------------- contact import from the organizer pages

# Uploaded lists wait here between the preview and the confirmation, under a random name.
IMPORT_DIR_NAME = "contact-imports"
# The session remembers which staged upload belongs to which organization, so that a
# confirmation can only import a file this browser uploaded, into the organization it was previewed for.
STAGED_IMPORTS = "renkei.staged_imports"


def _import_dir() -> Path:
    directory = Path(settings.DATA_DIR) / IMPORT_DIR_NAME
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def stage_upload(upload: Any, organization: Organization, session: Any) -> str:
    """Keep ``upload`` on disk for the confirmation; return the key the confirm form sends back."""
    key = secrets.token_urlsafe(18)
    with (_import_dir() / key).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    staged = dict(session.get(STAGED_IMPORTS, {}))
    staged[key] = organization.pk
    session[STAGED_IMPORTS] = staged
    return key


def staged_path(key: str, organization: Organization, session: Any) -> Path | None:
    """The staged file for ``key`` if this session staged it for ``organization``, else None."""
    if session.get(STAGED_IMPORTS, {}).get(key) != organization.pk:
        return None
    path = _import_dir() / key
    return path if path.is_file() else None


def do_preview_import(key: str, organization: Organization, session: Any) -> ImportReport:
    path = staged_path(key, organization, session)
    if path is None:
        raise UnusableFile(_("The uploaded file is no longer here. Upload it again."))
    return import_contacts(path, organization, dry_run=True)


def do_confirm_import(key: str, organization: Organization, session: Any) -> ImportReport:
    """Import the staged file for real, then forget it (a second click imports nothing twice)."""
    path = staged_path(key, organization, session)
    if path is None:
        raise UnusableFile(_("The uploaded file is no longer here. Upload it again."))
    try:
        return import_contacts(path, organization)
    finally:
        path.unlink(missing_ok=True)
        staged = dict(session.get(STAGED_IMPORTS, {}))
        staged.pop(key, None)
        session[STAGED_IMPORTS] = staged


def discard_upload(key: str, organization: Organization, session: Any) -> None:
    path = staged_path(key, organization, session)
    if path is not None:
        path.unlink(missing_ok=True)
