"""The verbs of campaigns: what views, admin actions and commands call."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .importing import ImportReport, UnusableFile, import_contacts
from .models import normalize_email
from .models import DEMO_ORGANIZATION_SLUG, ApiToken, Delivery, OptOut, Organization

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


def do_unsubscribe(delivery: Delivery) -> OptOut:
    """Record that the delivery's address wants no more mail from the delivery's organization (idempotent)."""
    organization_id = Delivery.objects.filter(pk=delivery.pk).values_list("mail__campaign__organization_id",
                                                                            flat=True).get()
    opt_out, _created = OptOut.objects.get_or_create(
        organization_id=organization_id, email=normalize_email(delivery.email),
        defaults={"source": OptOut.Source.LINK})
    return opt_out


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


# ---------------------------------------------------------------- API tokens

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "rk_"
# How much of the token the admin shows to tell tokens apart: the marker and 6 random characters.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# last_used_at is written at most this often per token: no UPDATE on every API call.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_token(secret: str) -> str:
    """The SHA-256 of a token: what is stored and looked up. 256 random bits need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def do_create_api_token(organization: Organization, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``organization``; returns it with the secret, which is never stored and never shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(organization=organization, name=name, prefix=secret[:SHOWN_PREFIX_LENGTH],
                                    secret_hash=hash_token(secret))
    return token, secret


def do_revoke_api_tokens(tokens: Any) -> int:
    """Revoke ``tokens`` (a queryset) that are still active; returns how many were."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its organization; None for a wrong or revoked one."""
    if not secret or len(secret) > 200:
        return None
    token = (ApiToken.objects.select_related("organization")
             .filter(secret_hash=hash_token(secret), revoked_at__isnull=True).first())
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token
