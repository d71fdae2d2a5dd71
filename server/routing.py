"""Every WebSocket route, in one list. The lecture-room protocol adds its routes here."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
