from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Prefecture, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "order"]

    @admin.display(description=_("name"), ordering="order")
    def name(self, obj):
        return obj.display_name

    def has_add_permission(self, request):  # reference data comes from the CSV
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Prefecture)
class PrefectureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "population", "physicians_per_100k", "maldistribution_index",
                    "designation"]
    list_filter = ["region", "designation"]

    @admin.display(description=_("name"), ordering="code")
    def name(self, obj):
        return obj.display_name

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
