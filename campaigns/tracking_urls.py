from django.urls import path

from . import tracking_views

app_name = "tracking"

urlpatterns = [
    path("c/<str:token>/", tracking_views.click, name="click"),
]
