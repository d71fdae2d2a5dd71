from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    """Lecture and social rooms, the WebSocket protocol, chat, Q&A and allocation."""

    name = "rooms"
    verbose_name = _("Rooms")
