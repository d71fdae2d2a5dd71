from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from events.models import Talk
from events.roles import organizes, talks_of_staff

from .lecture.stage import approve_slides
from .models import ModerationLog, Reception, Stage

# Staff land on the admin's index after signing in: it starts with the talks they
# run next, each with its console (rooms/templatetags/console_links.py).
admin.site.index_template = "admin/renkei_index.html"


class TalkSettingsAdmin(admin.ModelAdmin):
    """Settings kept one row per talk: its staff see them, only its event's organizers change them.

    Staff who only speak in the talk may look (with the view permission); an
    organizer of another event may neither look nor pick the talk when adding.
    The talk is the row's primary key, so it is fixed once saved (changing it
    would write a second row, not move this one).
    """

    def get_queryset(self, request):
        return talks_of_staff(super().get_queryset(request).select_related("talk__event"), request.user, "talk__")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or organizes(request.user, obj.talk.event))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return ["talk", *fields] if obj is not None else fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "talk" and not request.user.is_superuser:
            kwargs["queryset"] = Talk.objects.filter(event__organizers=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Stage)
class StageAdmin(TalkSettingsAdmin):
    """Per-talk lecture settings: the room split, and the slides' approval.

    Slides are uploaded on the speaker console, which checks the PDF and counts
    its pages; here they are only shown and approved.
    """

    list_display = ["talk", "room_mode", "state", "slides_approved_at", "slides_approved_by"]
    readonly_fields = ["state", "went_live_at", "ended_at", "slides", "slide_count", "current_slide",
                       "slides_approved_at", "slides_approved_by"]
    fields = ["talk", "room_mode", *readonly_fields]
    actions = ["approve_slides"]

    @admin.action(description=_("Approve the slides (reviewed material)"), permissions=["change"])
    def approve_slides(self, request, queryset):
        for stage in queryset.select_related("talk__event"):
            if organizes(request.user, stage.talk.event):
                approve_slides(stage.talk, request.user)


# What each moderation log code means to an organizer; a code not listed here is shown as it is.
MODERATION_ACTIONS = {
    "chat.delete": _("Deleted a chat message"),
    "chat.mute": _("Muted an attendee"),
    "chat.open": _("Opened the chat"),
    "chat.close": _("Closed the chat"),
    "announcement.pin": _("Pinned an announcement"),
    "slides.approve": _("Approved the slides"),
    "person.remove": _("Removed an attendee from the event"),
    "media.mute": _("Muted a microphone at a reception table"),
    "media.unmute": _("Released a microphone at a reception table"),
}


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["at", "talk", "actor", "action_label"]
    readonly_fields = ["talk", "actor", "action_label", "details", "at"]
    exclude = ["action"]

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj):
        return str(MODERATION_ACTIONS.get(obj.action, obj.action))

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(talk__event__organizers=request.user)


@admin.register(Reception)
class ReceptionAdmin(TalkSettingsAdmin):
    """Per-talk reception settings: on/off, how rooms are formed, size, duration, room changes."""

    list_display = ["talk", "enabled", "strategy", "room_size", "duration_minutes", "opened_at", "closes_at"]
    readonly_fields = ["opened_at", "opened_by", "closes_at"]
    fields = ["talk", "enabled", "strategy", "room_size", "duration_minutes", "allow_self_select", *readonly_fields]
