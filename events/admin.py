"""The organizers' console (the Django admin, for now).

Organizers see and manage only the events they organize and those events'
registrations; speakers see only their own talks and no registrations.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .exports import registrations_csv
from .models import Event, MailLog, Physician, Registration, Talk
from .roles import talks_of_staff


class TalkInline(admin.TabularInline):
    model = Talk
    extra = 0
    fields = ["title", "starts_at", "ends_at", "stream_url", "speakers"]
    filter_horizontal = ["speakers"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "approval_mode", "capacity", "registration_opens_at", "registration_closes_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["organizers", "target_regions", "target_prefectures"]
    inlines = [TalkInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(organizers=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Whoever creates an event organizes it, or they could not see it afterwards.
        if not request.user.is_superuser:
            form.instance.organizers.add(request.user)


@admin.register(Talk)
class TalkAdmin(admin.ModelAdmin):
    list_display = ["title", "event", "starts_at", "ends_at", "console"]
    list_filter = ["event"]
    filter_horizontal = ["speakers"]

    def get_queryset(self, request):
        return talks_of_staff(super().get_queryset(request).select_related("event"), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "event" and not request.user.is_superuser:
            kwargs["queryset"] = Event.objects.filter(organizers=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Console"))
    def console(self, obj):
        # The talk's live screen; the change form has the same link (rooms/templates/admin/events/talk/).
        return format_html('<a href="{}">{}</a>', reverse("rooms:console", args=[obj.pk]), _("Open the console"))


class PrefectureRegionFilter(admin.SimpleListFilter):
    title = _("region")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        from regions.models import Region

        return [(r.key, r.display_name) for r in Region.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(physician__prefecture__region_id=self.value())
        return queryset


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["physician_name", "event", "status", "prefecture", "physician__facility_type", "created_at"]
    list_filter = ["status", "event", PrefectureRegionFilter, "physician__facility_type"]
    search_fields = ["physician__full_name", "physician__name_kana", "physician__email", "physician__facility_name"]
    actions = ["approve", "reject", "export_csv", "revoke_links", "reissue_links"]
    readonly_fields = [
        "event", "physician", "status", "language", "attested_healthcare_professional", "privacy_consent_at",
        "privacy_notice_version", "join_revoked_at", "decided_at", "decided_by", "created_at",
    ]
    exclude = ["join_nonce"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("event", "physician__prefecture__region")
        return qs if request.user.is_superuser else qs.filter(event__organizers=request.user)

    def has_add_permission(self, request):
        return False  # physicians register themselves; nobody registers in their name

    @admin.display(description=_("physician"))
    def physician_name(self, obj):
        return obj.physician.full_name

    @admin.display(description=_("prefecture"))
    def prefecture(self, obj):
        return obj.physician.prefecture.name_ja

    @admin.action(description=_("Approve and send join links"), permissions=["change"])
    def approve(self, request, queryset):
        n = services.approve_registrations(queryset.select_for_update(), by=request.user)
        self.message_user(request, _("%(n)d registrations approved.") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Reject"), permissions=["change"])
    def reject(self, request, queryset):
        n = services.reject_registrations(queryset.select_for_update(), by=request.user)
        self.message_user(request, _("%(n)d registrations rejected.") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Export as CSV (with prefecture and region)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return registrations_csv(queryset.order_by("event_id", "created_at"))

    @admin.action(description=_("Revoke join links"), permissions=["change"])
    def revoke_links(self, request, queryset):
        for registration in queryset:
            services.revoke_join_link(registration)
        self.message_user(request, _("Join links revoked."), messages.SUCCESS)

    @admin.action(description=_("Re-issue join links (the old ones stop working)"), permissions=["change"])
    def reissue_links(self, request, queryset):
        for registration in queryset:
            services.reissue_join_link(registration)
        self.message_user(request, _("New join links sent."), messages.SUCCESS)


@admin.register(Physician)
class PhysicianAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "specialty", "facility_name", "prefecture"]
    search_fields = ["full_name", "email", "facility_name"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("prefecture")
        # An organizer sees only physicians registered for one of their events.
        if request.user.is_superuser:
            return qs
        return qs.filter(registrations__event__organizers=request.user).distinct()


@admin.register(MailLog)
class MailLogAdmin(admin.ModelAdmin):
    list_display = ["key", "claimed_at", "sent_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser
