from django.urls import path

from . import certificate_views

app_name = "certificates"

urlpatterns = [
    path("events/<slug:slug>/viewing/", certificate_views.viewing_log, name="viewing_log"),
    path("certificates/<int:registration_id>/<int:talk_id>/", certificate_views.certificate, name="certificate"),
]
