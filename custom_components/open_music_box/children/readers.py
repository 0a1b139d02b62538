"""Readers belong to a box or a room: a child's reader starts their own box, not their sibling's.

A reader is the `device_id` of HA's `tag_scanned` event. Every box notes the readers it hears
(stored, so the options flow can list them by device name) and the parent assigns each one in the
options: to this box, to one of its rooms, or to nothing. A reader assigned to no box keeps the
old behaviour (every box hears it); a reader assigned to another box is not heard here at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..storage import StoredReader
from .const import CONF_READERS, READER_BOX

if TYPE_CHECKING:
    from ..box import MusicBox

# The most readers a box remembers: the oldest seen is forgotten first.
MAX_READERS = 10


@dataclass(frozen=True, slots=True)
class Hearing:
    """How this box takes a scan from one reader."""

    heard: bool
    room_id: str | None = None  # the reader belongs to this room of the box


def assignments(options: Any) -> dict[str, str]:
    """Return the reader assignments of a box's options (device id -> "box" or a room id)."""
    readers = options.get(CONF_READERS)
    return dict(readers) if isinstance(readers, dict) else {}


class Readers:
    """The readers one box has heard, and which of them it listens to."""

    def __init__(self, hass: HomeAssistant, box: MusicBox) -> None:
        self._hass = hass
        self._box = box

    @property
    def _seen(self) -> dict[str, StoredReader]:
        return self._box.store.data.setdefault("readers", {})

    @callback
    def saw(self, device_id: str | None) -> None:
        """Note a reader that scanned a tag (for the options flow's list)."""
        if device_id is None:
            return
        seen = self._seen
        seen.pop(device_id, None)  # re-inserted last: the newest is kept when the list is full
        seen[device_id] = {"last_seen": dt_util.utcnow().timestamp()}
        while len(seen) > MAX_READERS:
            del seen[next(iter(seen))]
        self._box.store.schedule_save()

    def seen(self) -> list[tuple[str, str]]:
        """Return (device id, name) of the readers heard so far, newest first."""
        registry = dr.async_get(self._hass)
        out: list[tuple[str, str]] = []
        for device_id in reversed(list(self._seen)):
            device = registry.async_get(device_id)
            name = device.name_by_user or device.name if device else None
            out.append((device_id, name or device_id))
        return out

    def hearing(self, device_id: str | None) -> Hearing:
        """Return whether this box takes scans of the reader, and into which of its rooms."""
        if device_id is None:
            return Hearing(True)  # an automation's scan without a reader: every box
        mine = assignments(self._box.entry.options).get(device_id)
        if mine == READER_BOX:
            return Hearing(True)
        if mine is not None:
            # A room that was removed since: the box itself takes the reader.
            return Hearing(True, mine if mine in self._box.rooms else None)
        for entry in self._hass.config_entries.async_entries(DOMAIN):
            if (
                entry.entry_id != self._box.entry.entry_id
                and entry.state is ConfigEntryState.LOADED
                and device_id in assignments(entry.options)
            ):
                return Hearing(False)  # another child's reader
        return Hearing(True)

    def diagnostics(self) -> dict[str, Any]:
        """Return how many readers were seen and how many are assigned to this box."""
        return {
            "seen": len(self._seen),
            "assigned": len(assignments(self._box.entry.options)),
        }
