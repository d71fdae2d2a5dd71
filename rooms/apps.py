from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    """Lecture and social rooms, the WebSocket protocol, chat, Q&A and allocation."""

    name = "rooms"
    verbose_name = _("Rooms")

    def ready(self) -> None:
        from events.signals import admission_ended

        from .lecture import watch_times
        from .realtime.evictions import close_sockets

        # rooms listens to the registration domain; events never imports rooms.
        admission_ended.connect(close_sockets, dispatch_uid="rooms.close_sockets")
        # ClosedWatchTime follows every Attendance row saved with an end.
        watch_times.connect()
