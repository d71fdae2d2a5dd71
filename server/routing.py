"""Every WebSocket route, in one list."""

from rooms.realtime.routing import websocket_urlpatterns as room_routes

websocket_urlpatterns = [*room_routes]
