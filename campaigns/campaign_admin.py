"""Campaigns and campaign mails in the organizers' console, scoped to the member's organizations.

Deliveries are the send's ledger: shown read-only (a list, filtered per mail), never
added, changed or deleted by hand. Sending itself is on the organizer pages
(/organizer/<organization>/campaigns/), where the verbs check timing and consent.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from events.models import Event

from .admin_scoping import ORGANIZATION_FILTER, OfMyOrganizations
from .models import Audience, Campaign, CampaignMail, Delivery


class CampaignMailInline(admin.TabularInline):
    model = CampaignMail
    extra = 0
    fields = ["kind", "subject", "scheduled_at", "status", "started_at", "finished_at"]
    readonly_fields = ["status", "started_at", "finished_at"]
    show_change_link = True


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["event", "audience", "name", "slug"]

    def clean(self):
        cleaned = super().clean()
        event, audience = cleaned.get("event"), cleaned.get("audience")
        if event is not None and audience is not None and audience.organization_id != event.organization_id:
            self.add_error("audience", _("Choose an audience of the event's organization."))
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(OfMyOrganizations, admin.ModelAdmin):
    list_display = ["name", "slug", "event", "audience", "organization", "created_at"]
    list_filter = [ORGANIZATION_FILTER]
    search_fields = ["name", "slug"]
    form = CampaignAdminForm
    fields = ["event", "audience", "name", "slug"]
    inlines = [CampaignMailInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The organization follows the event (Campaign.save); both choices are the member's own.
        if db_field.name == "event" and not request.user.is_superuser:
            kwargs["queryset"] = Event.objects.filter(organization__members=request.user)
        if db_field.name == "audience" and not request.user.is_superuser:
            kwargs["queryset"] = Audience.objects.filter(organization__members=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(CampaignMail)
class CampaignMailAdmin(admin.ModelAdmin):
    list_display = ["subject", "campaign", "kind", "status", "scheduled_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["subject", "campaign__name"]
    readonly_fields = ["status", "started_at", "finished_at", "deliveries_link"]
    list_select_related = ["campaign"]

    @admin.display(description=_("Deliveries"))
    def deliveries_link(self, obj):
        # A list, not an inline: a mail to 10,000 contacts would render 10,000 rows on its change page.
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}?mail__id__exact={}">{}</a>', reverse("admin:campaigns_delivery_changelist"),
                           obj.pk, _("Who this mail went to"))

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("campaign__organization")
        return qs if request.user.is_superuser else qs.filter(campaign__organization__members=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "campaign" and not request.user.is_superuser:
            kwargs["queryset"] = Campaign.objects.filter(organization__members=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The ledger, read-only: who a mail went to, when, and whether they clicked."""

    list_display = ["email", "mail", "status", "sent_at", "error", "clicks"]
    list_filter = ["status", "mail__kind"]
    list_display_links = None
    search_fields = ["email"]
    list_select_related = ["mail__campaign"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(mail__campaign__organization__members=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
