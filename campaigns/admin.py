"""Organizations, contacts, opt-outs and audiences in the organizers' console.

An organizer sees only the organizations they are a member of and those
organizations' contacts, opt-outs and audiences: in the lists, the filters, the
change pages and the choice of organization (or earlier event) on a form.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from events.models import Event

from .admin_scoping import ORGANIZATION_FILTER, OfMyOrganizations
from .audience_forms import AudienceAdminForm
from .models import ApiToken, Audience, Contact, OptOut, Organization
from .services import do_revoke_api_tokens, organizations_of


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "import_link", "audiences_link"]
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

    @admin.display(description=_("Audiences"))
    def audiences_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("campaigns:audiences", args=[obj.slug]),
                           _("Sizes and map"))


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


@admin.register(Audience)
class AudienceAdmin(OfMyOrganizations, admin.ModelAdmin):
    """Audiences of the member's organizations; the earlier event only among those organizations' events.

    The form refuses an event of another organization than the audience's
    (AudienceAdminForm); the sizes and the map are on the organizer page.
    """

    form = AudienceAdminForm
    list_display = ["name", "organization", "shortage_only", "past_behaviour", "updated_at", "page_link"]
    list_filter = [ORGANIZATION_FILTER, "shortage_only", "past_behaviour"]
    search_fields = ["name"]
    filter_horizontal = ["regions", "prefectures"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        events = Event.objects.filter(organization__in=organizations_of(request.user))
        if obj is not None:
            events = events.filter(organization=obj.organization_id)
        events = events.order_by("-created_at")

        class Scoped(form):  # per instance: the class's fields are shared by every request
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.fields["past_event"].queryset = events

        return Scoped

    @admin.display(description=_("Sizes and map"))
    def page_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("campaigns:audience", args=[obj.organization.slug, obj.pk]),
                           _("Open"))


# Campaigns and their mails (campaigns/campaign_admin.py), registered on import like the models above.
from . import campaign_admin  # noqa: E402,F401
