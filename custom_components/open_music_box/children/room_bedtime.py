"""A room's own bedtime: its start and end times and its on/off state, stored with the box.

Everything else (bedtime playlists, night maximum, sleep minutes, schedule on or off) are the box's
rules. It applies to what plays in the room: tags targeting the room and readers assigned to it.
"""

from __future__ import annotations

from datetime import time

from homeassistant.core import callback

from .bedtime import Bedtime, option_time
from .const import DEFAULT_BEDTIME_END, DEFAULT_BEDTIME_START

ROOM_START, ROOM_END = "start", "end"  # keys of a room's stored bedtime ("HH:MM:SS")
_DEFAULTS = {ROOM_START: DEFAULT_BEDTIME_START, ROOM_END: DEFAULT_BEDTIME_END}


class RoomBedtime(Bedtime):
    """The bedtime of one room of the box."""

    @property
    def start(self) -> time:
        """Return when the room's bedtime starts (local time)."""
        return option_time(self._stored, ROOM_START, DEFAULT_BEDTIME_START)

    @property
    def end(self) -> time:
        """Return when the room's bedtime ends (local time)."""
        return option_time(self._stored, ROOM_END, DEFAULT_BEDTIME_END)

    def time_of(self, key: str) -> time:
        """Return the start (ROOM_START) or the end (ROOM_END)."""
        return option_time(self._stored, key, _DEFAULTS[key])

    @callback
    def set_time(self, key: str, value: time) -> None:
        """Store a new start or end; the clock follows it at once."""
        self._store(**{key: value.replace(microsecond=0).isoformat()})
        self.apply_options()
        self._listeners.notify()
