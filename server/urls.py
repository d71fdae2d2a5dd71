from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Renkei 連携"
admin.site.site_title = "Renkei"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("rooms.urls")),
    path("", include("events.urls")),
    path("", include("campaigns.dashboard_urls")),
    path("", include("campaigns.urls")),
    path("", include("campaigns.certificate_urls")),
]
