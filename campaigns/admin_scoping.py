"""What every campaigns admin page shares: an organizer sees their own organizations' rows only.

Kept apart from admin.py so the pages split over several modules (admin.py,
campaign_admin.py) import it, and admin.py imports them, without a loop.
"""

from __future__ import annotations

from django.contrib import admin

from .services import organizations_of

# Filters by organization list only the organizations behind the visible rows.
ORGANIZATION_FILTER = ("organization", admin.RelatedOnlyFieldListFilter)


class OfMyOrganizations:
    """Rows of the person's organizations only, and only those organizations offered on forms."""

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organization")
        return qs if request.user.is_superuser else qs.filter(organization__members=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs["queryset"] = organizations_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
