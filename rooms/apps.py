from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    """Lecture and social rooms: the lecture (rooms.lecture), the reception (rooms.reception)
    and the WebSocket transport they share (rooms.realtime)."""

    name = "rooms"
    verbose_name = _("Rooms")

    def ready(self) -> None:
        from events.signals import admission_ended

        # The socket handlers register in rooms.realtime.protocol.ACTIONS when imported:
        # all of them now, before any socket or page (the console) asks what a role may send.
        from .lecture import chat_handlers, stage_handlers, watch_times  # noqa: F401
        from . import outbox
        from .realtime.delivery import deliver
        from .realtime.evictions import close_sockets
        from .reception import handlers  # noqa: F401

        # What a verb queued leaves through the transport, which the domain never imports.
        outbox.register(deliver)
        # rooms listens to the registration domain; events never imports rooms.
        admission_ended.connect(close_sockets, dispatch_uid="rooms.close_sockets")
        # ClosedWatchTime follows every Attendance row saved with an end.
        watch_times.connect()
