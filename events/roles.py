"""Who may do what. Organizers, speakers and physicians are separate roles.

Organizers and speakers are Django users in the groups below; a physician is
not a Django user at all but a Registration admitted to one event through its
join link (see events.joinlinks).
"""

from __future__ import annotations

from typing import Any

ORGANIZERS = "organizers"
SPEAKERS = "speakers"


def display_name(user: Any) -> str:
    """A staff user's name as shown to physicians: Japanese order, family name first."""
    return f"{user.last_name} {user.first_name}".strip() or user.username


def is_organizer(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.groups.filter(name=ORGANIZERS).exists()))


def is_speaker(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.groups.filter(name=SPEAKERS).exists())


def organizes(user: Any, event: Any) -> bool:
    """True when ``user`` may see and manage ``event`` and its registrations."""
    if not (user and user.is_authenticated):
        return False
    return user.is_superuser or event.organizers.filter(pk=user.pk).exists()


def talks_of_staff(qs: Any, user: Any, talk: str = "") -> Any:
    """Narrow ``qs`` to the talks ``user`` organizes (through the event) or speaks in.

    ``talk`` is the lookup path from the queryset's model to Talk ("" for Talk
    itself, "talk__" for a model with a ``talk`` foreign key).
    """
    if user.is_superuser:
        return qs
    return qs.filter(**{f"{talk}event__organizers": user}) | qs.filter(**{f"{talk}speakers": user})


def staff_in_roles(*roles: str) -> Any:
    """Active staff in any of ``roles`` (and superusers): whom the admin offers as organizers or speakers.

    Superusers are included so that saving a form never silently drops one who
    was already chosen; people without a role are never offered.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True)
    ids = users.filter(Q(is_superuser=True) | Q(is_staff=True, groups__name__in=roles)).values("pk")
    return users.filter(pk__in=ids).order_by("username")
