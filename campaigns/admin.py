"""Organizations, contacts and opt-outs in the organizers' console.

An organizer sees only the organizations they are a member of and those
organizations' contacts and opt-outs: in the lists, the filters, the change
pages and the choice of organization on a form.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Contact, OptOut, Organization
from .services import do_revoke_api_tokens, organizations_of

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


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "import_link"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["members"]

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ["name"]} if request.user.is_superuser else {}

    def get_queryset(self, request):
        return organizations_of(request.user)

    def get_readonly_fields(self, request, obj=None):
        # Members keep their sender line up to date; who belongs is the site administrator's call.
        return [] if request.user.is_superuser else ["slug", "members"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("Contacts"))
    def import_link(self, obj):
        # The import lives on the organizer pages: upload, preview every rejected row, confirm.
        return format_html('<a href="{}">{}</a>', reverse("campaigns:import_contacts", args=[obj.slug]),
                           _("Import a contact list"))


@admin.register(Contact)
class ContactAdmin(OfMyOrganizations, admin.ModelAdmin):
    list_display = ["full_name", "email", "prefecture", "facility_name", "specialty", "consent_date"]
    list_filter = [ORGANIZATION_FILTER, "prefecture__region", "facility_type", "specialty"]
    search_fields = ["full_name", "name_kana", "email", "facility_name"]
    list_select_related = ["prefecture"]


@admin.register(OptOut)
class OptOutAdmin(OfMyOrganizations, admin.ModelAdmin):
    list_display = ["email", "organization", "source", "created_at"]
    list_filter = [ORGANIZATION_FILTER, "source"]
    search_fields = ["email"]

    def has_change_permission(self, request, obj=None):
        return False  # an opt-out is a record of what someone asked: kept as it was made


@admin.register(ApiToken)
class ApiTokenAdmin(OfMyOrganizations, admin.ModelAdmin):
    """Organizers see their organizations' tokens and revoke them; never a secret (only its hash is stored).

    Tokens are made with ``manage.py create_api_token``, the one place the secret is shown.
    """

    list_display = ["prefix", "name", "organization", "created_at", "last_used_at", "revoked_at"]
    list_filter = [ORGANIZATION_FILTER]
    search_fields = ["name", "prefix"]
    fields = ["organization", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["organization", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the record of which tool had access stays

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = do_revoke_api_tokens(queryset)
        self.message_user(request, _("%(count)d API token(s) revoked.") % {"count": revoked})


# Campaigns and their mails (campaigns/campaign_admin.py), registered on import like the models above.
from . import campaign_admin  # noqa: E402,F401
