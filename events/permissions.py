"""The organizer and speaker groups and what each may do in the admin."""

from __future__ import annotations

from typing import Any

from .roles import ORGANIZERS, SPEAKERS

ROLE_PERMISSIONS = {
    ORGANIZERS: [
        "events.view_event", "events.add_event", "events.change_event",
        "events.view_talk", "events.add_talk", "events.change_talk", "events.delete_talk",
        "events.view_registration", "events.change_registration",
        "events.view_physician",
        "regions.view_region", "regions.view_prefecture",
        # Per-talk settings: the room split and slide approval, the reception.
        "rooms.view_stage", "rooms.add_stage", "rooms.change_stage",
        "rooms.view_reception", "rooms.add_reception", "rooms.change_reception",
        "rooms.view_moderationlog",
        # Their organizations' sender line, contacts and opt-outs (an opt-out is never deleted).
        "campaigns.view_organization", "campaigns.change_organization",
        "campaigns.view_contact", "campaigns.add_contact", "campaigns.change_contact", "campaigns.delete_contact",
        "campaigns.view_optout", "campaigns.add_optout",
        # Their organizations' API tokens: list, rename and revoke (made by create_api_token only).
        "campaigns.view_apitoken", "campaigns.change_apitoken",
        # Their organizations' audiences (a campaign's audience cannot be deleted: the database protects it).
        "campaigns.view_audience", "campaigns.add_audience", "campaigns.change_audience",
        "campaigns.delete_audience",
        # Their organizations' campaigns and mails; deliveries are a read-only ledger.
        "campaigns.view_campaign", "campaigns.add_campaign", "campaigns.change_campaign",
        "campaigns.view_campaignmail", "campaigns.add_campaignmail", "campaigns.change_campaignmail",
        "campaigns.view_delivery",
    ],
    SPEAKERS: ["events.view_talk"],
}


def ensure_role_groups(sender: Any = None, **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
