"""Persistent data of one box (helpers.storage.Store): user playlists, and what later issues add."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, STORAGE_MINOR_VERSION, STORAGE_VERSION

SAVE_DELAY_SECONDS = 1.0


class StoredPlaylist(TypedDict):
    """A user playlist as stored."""

    name: str
    track_ids: list[str]
    seq: NotRequired[int]  # playlist_seq: how many times its tracks changed


class StoredTagLink(TypedDict):
    """What one NFC tag starts (tags.py); keyed by tag id."""

    playlist_id: str
    target: str  # "box" for now; a sync room once rooms exist
    start_track_id: NotRequired[str]
    shuffle: NotRequired[bool]


class StoredResumePoint(TypedDict):
    """Where an audiobook stopped (resume.py); keyed by playlist id."""

    track_id: str
    position: float  # seconds into the track


class StoredRoom(TypedDict):
    """Where a sync room was (sync/room.py), so it comes back paused there; keyed by room id."""

    track_ids: list[str]
    order: list[int]
    pos: int
    position: float
    playlist_id: str | None
    shuffle: bool
    repeat: str
    volume: float
    muted: bool


class StoredData(TypedDict):
    """Everything one box stores."""

    playlists: dict[str, StoredPlaylist]
    hub: NotRequired[dict[str, Any]]  # the live-state hub's seq reservation
    tags: NotRequired[dict[str, StoredTagLink]]  # NFC tag links by tag id
    playlist_modes: NotRequired[dict[str, str]]  # playlist id -> "audiobook" (album: absent)
    resume_points: NotRequired[dict[str, StoredResumePoint]]  # audiobooks' resume points
    rooms: NotRequired[dict[str, StoredRoom]]  # sync rooms' queues and positions


def empty_data() -> StoredData:
    """Return the data of a box that has never stored anything."""
    return {"playlists": {}}


class BoxStore:
    """Load once, keep in memory, save with a short delay (coalesces bursts of edits)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[StoredData] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
        )
        self.data: StoredData = empty_data()
        self._pending = False  # a delayed save is scheduled and has not run yet

    async def async_load(self) -> StoredData:
        """Load the stored data (empty when nothing was saved yet)."""
        self.data = await self._store.async_load() or empty_data()
        return self.data

    def schedule_save(self) -> None:
        """Save soon; several changes within the delay are written once."""
        self._pending = True
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY_SECONDS)

    def _data_to_save(self) -> StoredData:
        self._pending = False
        return self.data

    async def async_flush(self) -> None:
        """Write a pending save now (unload): a reload or removal must not race the delayed one."""
        if self._pending:
            await self.async_save_now()

    async def async_save_now(self) -> None:
        """Save at once (also what a pending delayed save would have written)."""
        await self._store.async_save(self._data_to_save())

    async def async_remove(self) -> None:
        """Delete the file (the entry was removed)."""
        await self._store.async_remove()
