from django.urls import path

from . import unsubscribe_views

app_name = "unsubscribe"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
]
