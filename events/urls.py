from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("events/<slug:slug>/", views.event_detail, name="event"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("events/<slug:slug>/registered/", views.registered, name="registered"),
    path("events/<slug:slug>/lobby/", views.lobby, name="lobby"),
    path("events/<slug:slug>/cancel/", views.cancel, name="cancel"),
    path("join/<str:token>/", views.join, name="join"),
]
