from django.contrib import admin

from .models import Prefecture, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["key", "name_ja", "name_en", "order"]

    def has_add_permission(self, request):  # reference data comes from the CSV
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Prefecture)
class PrefectureAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ja", "name_en", "region", "physicians_per_100k", "maldistribution_index", "designation"]
    list_filter = ["region", "designation"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
