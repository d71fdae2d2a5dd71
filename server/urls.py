from django.contrib import admin
from django.urls import include, path

from campaigns.api import api, schema_view
from server import health, metrics

admin.site.site_header = "Renkei 連携"
admin.site.site_title = "Renkei"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("api/schema/", schema_view, name="api_schema"),
    path("", include("rooms.urls")),
    path("", include("events.urls")),
    path("", include("campaigns.dashboard_urls")),
    path("", include("campaigns.urls")),
    path("", include("campaigns.certificate_urls")),
    path("", include("campaigns.privacy_urls")),
    path("", include("campaigns.unsubscribe_urls")),
    path("", include("campaigns.campaign_urls")),
    path("", include("campaigns.tracking_urls")),
]
