from django.urls import path

from . import privacy_views

app_name = "privacy"

urlpatterns = [
    path("events/<slug:slug>/my-data/", privacy_views.my_data, name="my_data"),
    path("events/<slug:slug>/my-data.json", privacy_views.my_data_json, name="my_data_json"),
    path("events/<slug:slug>/my-data/delete/", privacy_views.delete_my_data, name="delete"),
]
