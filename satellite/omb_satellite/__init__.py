"""Open Music Box reference satellite: play a Home Assistant sync room on another machine.

The satellite joins the room over Home Assistant's WebSocket API, keeps its clock aligned with
HA's (NTP samples over `open_music_box/time` through a Kalman filter), plays what the room plays
with libmpv, starting at the room's server time, and reports its measured position so the room
can trim its speed. It reconnects by itself and rejoins as the same member (its id is kept in a
file). See README.md.
"""

from __future__ import annotations

__version__ = "0.2.0"

from .errors import EXIT_AUTH, EXIT_OK, EXIT_PROTOCOL, EXIT_ROOM
from .satellite import Satellite

__all__ = ["EXIT_AUTH", "EXIT_OK", "EXIT_PROTOCOL", "EXIT_ROOM", "Satellite", "__version__"]
