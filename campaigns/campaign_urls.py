from django.urls import path

from . import campaign_views as views

app_name = "campaign_mail"

prefix = "organizer/<slug:slug>/campaigns/"
urlpatterns = [
    path(prefix, views.campaign_list, name="list"),
    path(prefix + "new/", views.campaign_create, name="create"),
    path(prefix + "<slug:campaign_slug>/", views.campaign_detail, name="campaign"),
    path(prefix + "<slug:campaign_slug>/progress.json", views.campaign_progress, name="progress"),
    path(prefix + "<slug:campaign_slug>/mails/new/", views.mail_edit, name="mail_new"),
    path(prefix + "<slug:campaign_slug>/mails/<int:mail_id>/", views.mail_edit, name="mail_edit"),
    path(prefix + "<slug:campaign_slug>/mails/<int:mail_id>/<str:action>/", views.mail_action, name="mail_action"),
]
