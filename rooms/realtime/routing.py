from django.urls import path

from .consumer import LectureConsumer

websocket_urlpatterns = [
    path("ws/talks/<int:talk_id>/", LectureConsumer.as_asgi()),
]
