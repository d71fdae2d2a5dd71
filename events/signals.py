"""What the registration domain announces to the rest of Renkei.

events/ knows nothing of WebSockets: the verbs in events.services send these
signals after their commit, and whoever needs to act subscribes (rooms closes
the person's open sockets; see rooms.realtime.evictions). So the dependency runs from
the transport to the domain, never back.
"""

from __future__ import annotations

from django.dispatch import Signal

# A registration no longer admits its holder: sent after the commit, with
# ``registration_id``, ``event_id`` and ``reason`` (one of ADMISSION_ENDED_REASONS).
admission_ended = Signal()

REVOKED = "revoked"  # an organizer revoked the join link
REPLACED = "replaced"  # an organizer re-issued the link: the old one, and its sessions, stop working
CANCELLED = "cancelled"  # the physician cancelled their registration
REJECTED = "rejected"  # an organizer rejected the registration
REMOVED = "removed"  # a moderator removed the physician from the event's talks
ERASED = "erased"  # the physician asked for their personal data to be deleted (campaigns.privacy)
ADMISSION_ENDED_REASONS = (REVOKED, REPLACED, CANCELLED, REJECTED, REMOVED, ERASED)

# A visitor's registration form made a registration (a new one, or one that had been
# cancelled): sent by events.views after the commit, with ``registration`` and the
# ``request`` (campaigns reads from it where the visitor came from). An address that
# was already registered sends nothing.
registration_created = Signal()
