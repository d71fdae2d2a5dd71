"""The frames moved to rooms.frames (the protocol's vocabulary, which the domain's verbs use too).

Kept so that ``from rooms.realtime import frames`` still works; new code imports rooms.frames.
"""

from ..frames import *  # noqa: F401,F403
from ..frames import RECEPTION_WARNING_SECONDS, encode, room_moved  # noqa: F401  (named for the relay's imports)
