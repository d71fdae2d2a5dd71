"""The verbs of campaigns: what views, admin actions and commands call."""

from __future__ import annotations

from typing import Any

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
