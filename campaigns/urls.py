from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("organizer/", views.organizations, name="organizations"),
    path("organizer/<slug:slug>/contacts/import/", views.import_contacts, name="import_contacts"),
    path("organizer/<slug:slug>/contacts/import/confirm/", views.confirm_import, name="confirm_import"),
]
