"""Readers belong to a box or a room: a child's reader starts their own box, not their sibling's.

A reader is the `device_id` of HA's `tag_scanned` event. Every box notes the readers it hears
(stored, so the options flow can list them by device name) and the parent assigns each one in the
options: to this box, to one of its rooms, or to nothing. A reader assigned to no box keeps the
old behaviour (every box hears it); a reader assigned to another box is not heard here at all.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..storage import BoxStore, StoredReader
from .const import CONF_READERS, READER_BOX, READER_NONE

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

    def __init__(
        self, hass: HomeAssistant, store: BoxStore, entry: ConfigEntry, rooms: Container[str]
    ) -> None:
        """Take the box's store and entry, and its rooms (by id; filled in place at setup)."""
        self._hass = hass
        self._store = store
        self._entry = entry
        self._rooms = rooms

    @property
    def _seen(self) -> dict[str, StoredReader]:
        return self._store.data.setdefault("readers", {})

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
        self._store.schedule_save()

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
        mine = assignments(self._entry.options).get(device_id)
        if mine == READER_BOX:
            return Hearing(True)
        if mine is not None:
            # A room that was removed since: the box itself takes the reader.
            return Hearing(True, mine if mine in self._rooms else None)
        for entry in self._hass.config_entries.async_entries(DOMAIN):
            if (
                entry.entry_id != self._entry.entry_id
                and entry.state is ConfigEntryState.LOADED
                and device_id in assignments(entry.options)
            ):
                return Hearing(False)  # another child's reader
        return Hearing(True)

    def listing(self) -> list[dict[str, str]]:
        """Return the readers heard, newest first, each with its assignment (the panel).

        The assignment is READER_BOX, a room's id or READER_NONE; a removed room's reader is
        the box's, as `hearing` takes it.
        """
        mine = assignments(self._entry.options)
        out = []
        for device_id, name in self.seen():
            assignment = mine.get(device_id, READER_NONE)
            if assignment not in (READER_BOX, READER_NONE) and assignment not in self._rooms:
                assignment = READER_BOX
            out.append({"device_id": device_id, "name": name, "assignment": assignment})
        return out

    @callback
    def assign(self, device_id: str, assignment: str) -> None:
        """Assign a reader heard here to the box, one of its rooms or nothing (in the options).

        Stored as the options flow stores it; the caller checked that a room id is a room's.
        """
        if device_id not in self._seen:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="reader_not_found",
                translation_placeholders={"device_id": device_id[:64]},
            )
        assigned = assignments(self._entry.options)
        if assignment == READER_NONE:
            assigned.pop(device_id, None)
        else:
            assigned[device_id] = assignment
        options = {**self._entry.options, CONF_READERS: assigned}
        if not assigned:
            del options[CONF_READERS]
        self._hass.config_entries.async_update_entry(self._entry, options=options)

    def diagnostics(self) -> dict[str, Any]:
        """Return how many readers were seen and how many are assigned to this box."""
        return {
            "seen": len(self._seen),
            "assigned": len(assignments(self._entry.options)),
        }
