"""Every WebSocket route, in one list."""

from rooms.routing import websocket_urlpatterns as room_routes

websocket_urlpatterns = [*room_routes]
