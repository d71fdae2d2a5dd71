from django.urls import path

from .lecture import pages, reports
from .reception import card_views, views

app_name = "rooms"

urlpatterns = [
    path("talks/<int:talk_id>/", pages.lecture, name="lecture"),
    path("talks/<int:talk_id>/console/", pages.console, name="console"),
    path("talks/<int:talk_id>/slides.pdf", pages.slides, name="slides"),
    path("talks/<int:talk_id>/slides/upload/", pages.upload_slides, name="upload_slides"),
    path("talks/<int:talk_id>/slides/approve/", pages.approve_slides, name="approve_slides"),
    path("talks/<int:talk_id>/attendance.csv", reports.attendance_export, name="attendance_csv"),
    path("talks/<int:talk_id>/reception/", views.reception_report, name="reception_report"),
    path("talks/<int:talk_id>/reception/seats.csv", views.seats_export, name="seats_csv"),
    path("events/<slug:slug>/cards/", card_views.my_cards, name="cards"),
    path("events/<slug:slug>/tables/", card_views.my_tables, name="tables"),
]
