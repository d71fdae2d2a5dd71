from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.roles import talks_of_staff

from .models import ModerationLog, Reception, Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Per-talk lecture settings: room split, slides and their approval."""

    list_display = ["talk", "room_mode", "state", "slides_approved_at", "slides_approved_by"]
    readonly_fields = ["state", "went_live_at", "ended_at", "current_slide", "slides_approved_at", "slides_approved_by"]
    fields = ["talk", "room_mode", "slides", "slide_count", *readonly_fields]
    actions = ["approve_slides"]

    def get_queryset(self, request):
        return talks_of_staff(super().get_queryset(request).select_related("talk__event"), request.user, "talk__")

    def save_model(self, request, obj, form, change):
        if "slides" in form.changed_data:
            # New material needs a new review.
            obj.slides_approved_at = None
            obj.slides_approved_by = None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Approve the slides (reviewed material)"), permissions=["change"])
    def approve_slides(self, request, queryset):
        from events.roles import organizes

        for stage in queryset.select_related("talk__event"):
            if stage.slides and organizes(request.user, stage.talk.event):
                stage.slides_approved_at = timezone.now()
                stage.slides_approved_by = request.user
                stage.save(update_fields=["slides_approved_at", "slides_approved_by"])


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["at", "talk", "actor", "action"]
    readonly_fields = ["talk", "actor", "action", "details", "at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(talk__event__organizers=request.user)


@admin.register(Reception)
class ReceptionAdmin(admin.ModelAdmin):
    """Per-talk reception settings: on/off, how rooms are formed, size, duration, room changes."""

    list_display = ["talk", "enabled", "strategy", "room_size", "duration_minutes", "opened_at", "closes_at"]
    readonly_fields = ["opened_at", "opened_by", "closes_at"]
    fields = ["talk", "enabled", "strategy", "room_size", "duration_minutes", "allow_self_select", *readonly_fields]

    def get_queryset(self, request):
        return talks_of_staff(super().get_queryset(request).select_related("talk__event"), request.user, "talk__")
