from django.urls import path

from . import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("organizer/events/<slug:slug>/dashboard/", dashboard_views.event_dashboard, name="event"),
    path("organizer/events/<slug:slug>/dashboard/<str:dataset>.<str:extension>", dashboard_views.event_export,
         name="event_export"),
    path("organizer/campaigns/<int:pk>/dashboard/", dashboard_views.campaign_dashboard, name="campaign"),
    path("organizer/campaigns/<int:pk>/dashboard/<str:dataset>.<str:extension>", dashboard_views.campaign_export,
         name="campaign_export"),
]
