from django.urls import path

from . import audience_views, views

app_name = "campaigns"

urlpatterns = [
    path("organizer/", views.organizations, name="organizations"),
    path("organizer/<slug:slug>/contacts/import/", views.import_contacts, name="import_contacts"),
    path("organizer/<slug:slug>/contacts/import/confirm/", views.confirm_import, name="confirm_import"),
    path("organizer/<slug:slug>/audiences/", audience_views.audiences, name="audiences"),
    path("organizer/<slug:slug>/audiences/new/", audience_views.audience_new, name="audience_new"),
    path("organizer/<slug:slug>/audiences/<int:pk>/", audience_views.audience, name="audience"),
    path("organizer/<slug:slug>/audiences/<int:pk>/edit/", audience_views.audience_edit, name="audience_edit"),
    path("organizer/<slug:slug>/audiences/<int:pk>/delete/", audience_views.audience_delete,
         name="audience_delete"),
]
