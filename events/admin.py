"""The organizers' console (the Django admin, for now).

Organizers see and manage only the events they organize and those events'
registrations; speakers see only their own talks and no registrations.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from . import services
from .exports import registrations_csv
from .models import Event, MailLog, Physician, Registration, Talk
from .roles import ORGANIZERS, SPEAKERS, organizes, staff_in_roles, talks_of_staff

# Filters by event list only the events behind the rows this person may see
# (the plain related filter would list every event's title, anyone's drafts included).
EVENT_FILTER = ("event", admin.RelatedOnlyFieldListFilter)


class SpeakerChoices:
    """Offers as a talk's speakers the staff who speak or organize, never every account."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "speakers":
            kwargs["queryset"] = staff_in_roles(SPEAKERS, ORGANIZERS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TalkInline(SpeakerChoices, admin.StackedInline):
    # Stacked, one talk per block: as table columns the speakers' two-list picker
    # made the event page half again as wide as a laptop screen.
    model = Talk
    extra = 0
    fields = ["title", ("starts_at", "ends_at"), "stream_url", "speakers"]
    filter_horizontal = ["speakers"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "approval_mode", "capacity", "registration_opens_at", "registration_closes_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["organizers", "target_prefectures"]
    inlines = [TalkInline]
    search_fields = ["title"]
    # Set by the retention purge (campaigns.privacy); the period itself is the organization's.
    readonly_fields = ["details_purged_at"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "organizers":
            kwargs["queryset"] = staff_in_roles(ORGANIZERS)
        if db_field.name == "target_regions":
            kwargs["widget"] = forms.CheckboxSelectMultiple  # eight regions: ticks, not a two-list picker
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        from campaigns.services import organizations_of

        form = super().get_form(request, obj, change, **kwargs)
        if "organization" in form.base_fields:
            # Only an organization the person belongs to (with one, it is already chosen), or the
            # one the event already has: a co-organizer outside it can still save the event.
            field = form.base_fields["organization"]
            mine = organizations_of(request.user)
            field.queryset = (mine | field.queryset.filter(events=obj)).distinct() if obj else mine
            if obj is None and not request.user.is_superuser and mine.count() == 1:
                field.initial = mine.get().pk
        return form

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organization")
        return qs if request.user.is_superuser else qs.filter(organizers=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Whoever creates an event organizes it, or they could not see it afterwards.
        if not request.user.is_superuser:
            form.instance.organizers.add(request.user)


@admin.register(Talk)
class TalkAdmin(SpeakerChoices, admin.ModelAdmin):
    list_display = ["title", "event", "starts_at", "ends_at", "console"]
    list_filter = [EVENT_FILTER]
    filter_horizontal = ["speakers"]
    search_fields = ["title"]

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

    # An organizer who also speaks in another event's talk sees it, but only that
    # event's organizers change it (or could move it into an event of their own).
    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or organizes(request.user, obj.event))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or organizes(request.user, obj.event))


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
    list_display = ["physician_name", "event", "status", "prefecture", "facility_type", "registered_at"]
    list_filter = ["status", EVENT_FILTER, PrefectureRegionFilter, "physician__facility_type"]
    search_fields = ["physician__full_name", "physician__name_kana", "physician__email", "physician__facility_name"]
    actions = ["approve", "reject", "export_csv", "export_engagement", "revoke_links", "reissue_links"]
    readonly_fields = [
        "event", "physician", "status", "language_name", "attested_healthcare_professional", "privacy_consent_at",
        "privacy_notice_version", "join_revoked_at", "decided_at", "decided_by", "created_at", "viewing_log",
        "engagement_score",
    ]
    exclude = ["join_nonce", "language"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("event", "physician__prefecture__region")
        return qs if request.user.is_superuser else qs.filter(event__organizers=request.user)

    def has_add_permission(self, request):
        return False  # physicians register themselves; nobody registers in their name

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        # The event column says something only when the rows can belong to several events;
        # without it the list fits a laptop screen beside the menu and the filters.
        if request.GET.get(f"{EVENT_FILTER[0]}__id__exact") or not self._sees_several_events(request):
            columns.remove("event")
        return columns

    @staticmethod
    def _sees_several_events(request) -> bool:
        events = Event.objects.all() if request.user.is_superuser else Event.objects.filter(organizers=request.user)
        return events[:2].count() > 1

    @admin.display(description=_("physician"), ordering="physician__name_kana")
    def physician_name(self, obj):
        return obj.physician.full_name

    @admin.display(description=_("prefecture"), ordering="physician__prefecture")
    def prefecture(self, obj):
        return obj.physician.prefecture.display_name

    @admin.display(description=_("facility type"), ordering="physician__facility_type")
    def facility_type(self, obj):
        return obj.physician.get_facility_type_display()

    @admin.display(description=_("registered at"), ordering="created_at")
    def registered_at(self, obj):
        return date_format(localtime(obj.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("language"))
    def language_name(self, obj):
        return str(dict(settings.LANGUAGES).get(obj.language, obj.language))

    @admin.display(description=_("viewing log and certificates"))
    def viewing_log(self, obj):
        # Only the event's organizers reach this page (get_queryset); the certificate page checks again.
        from campaigns.certificates import viewing_log

        def line(v):
            link = format_html(' · <a href="{}">{}</a>', reverse("certificates:certificate", args=[obj.pk, v.talk.pk]),
                               _("Certificate")) if v.attended else ""
            return format_html("{} {} — {}{}", date_format(localtime(v.talk.starts_at), "SHORT_DATE_FORMAT"),
                               v.talk.title, _("%(n)s min") % {"n": v.minutes}, link)

        lines = [line(v) for v in viewing_log(obj)]
        return format_html_join("", "{}<br>", ((line,) for line in lines)) if lines else "—"

    @admin.display(description=_("engagement score"))
    def engagement_score(self, obj):
        # The formula is in campaigns/engagement.py and docs/campaigns.md.
        from campaigns.engagement import engagement_of

        e = engagement_of(obj)
        return _("%(score)s / 100 (minutes watched %(minutes)s of %(scheduled)s, chat %(chat)s, questions "
                 "%(questions)s, reception %(reception)s, cards exchanged %(cards)s)") % {
            "score": e.score, "minutes": e.minutes_watched, "scheduled": e.minutes_scheduled,
            "chat": e.chat_messages, "questions": e.questions, "cards": e.cards_exchanged,
            "reception": _("yes") if e.reception_joined else _("no"),
        }

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

    @admin.action(description=_("Export engagement scores as CSV"), permissions=["view"])
    def export_engagement(self, request, queryset):
        from campaigns.engagement import engagement_csv

        return engagement_csv(queryset.order_by("event_id", "created_at"))

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
    # In kana order (五十音順), as Japanese name lists are read; the id breaks ties. The list and the
    # registration form's physician search page through 20 at a time, and without an order a page
    # could repeat one physician and skip another.
    ordering = ["name_kana", "id"]
    # Set only by the physician's own deletion request (campaigns.privacy), never by hand.
    readonly_fields = ["erased_at"]

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
