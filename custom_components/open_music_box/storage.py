"""Persistent data of one box (helpers.storage.Store): checked at load, durable once answered."""

from __future__ import annotations

import logging
from typing import Any, NotRequired, TypedDict, cast

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import DOMAIN, STORAGE_MINOR_VERSION, STORAGE_VERSION
from .storage_schema import validate

_LOGGER = logging.getLogger(__name__)

ISSUE_STORAGE_REPAIRED = "storage_repaired"

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
    """Where an audiobook stopped (children/resume.py); keyed by playlist id."""

    track_id: str
    position: float  # seconds into the track
    at: NotRequired[float]  # when (POSIX): boxes on the same folder take the newest point


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


class StoredReader(TypedDict):
    """A tag reader a box heard (children/readers.py); keyed by its device id."""

    last_seen: float  # POSIX timestamp


class StoredDailyLimit(TypedDict):
    """Today's listening (children/daily_limit.py)."""

    date: str  # local date, ISO: another day starts again from 0
    seconds: float
    extra_minutes: int
    reached: bool


class StoredLastPlaylist(TypedDict):
    """The playlist the box played last (playback/last_playlist.py): Play plays it again."""

    playlist_id: str


class StoredBedtime(TypedDict):
    """Whether it is bedtime (children/bedtime.py): a parent's switch survives a restart."""

    active: bool
    since: NotRequired[float]  # POSIX: a scheduled start or end after it wins at start-up


class StoredRoomBedtime(TypedDict):
    """A room's own bedtime (children/room_bedtime.py); keyed by the room's id."""

    active: NotRequired[bool]
    since: NotRequired[float]
    start: NotRequired[str]  # "HH:MM:SS", local time
    end: NotRequired[str]


class StoredData(TypedDict):
    """Everything one box stores."""

    playlists: dict[str, StoredPlaylist]
    hub: NotRequired[dict[str, Any]]  # the event log's seq reservation (first named hub)
    tags: NotRequired[dict[str, StoredTagLink]]  # NFC tag links by tag id
    playlist_modes: NotRequired[dict[str, str]]  # playlist id -> "audiobook" (album: absent)
    resume_points: NotRequired[dict[str, StoredResumePoint]]  # audiobooks' resume points
    rooms: NotRequired[dict[str, StoredRoom]]  # sync rooms' queues and positions
    readers: NotRequired[dict[str, StoredReader]]  # tag readers heard, by device id
    bedtime_playlists: NotRequired[dict[str, bool]]  # playlists a tag may start at bedtime
    daily_limit: NotRequired[StoredDailyLimit]  # today's listening time
    bedtime: NotRequired[StoredBedtime]  # bedtime on or off, and why
    room_bedtimes: NotRequired[dict[str, StoredRoomBedtime]]  # each room's own bedtime
    last_playlist: NotRequired[StoredLastPlaylist]  # what Play on an empty queue plays


def empty_data() -> StoredData:
    """Return the data of a box that has never stored anything."""
    return {"playlists": {}}


def storage_issue_id(entry_id: str) -> str:
    """Return the id of the "stored data was repaired" issue of a box."""
    return f"{ISSUE_STORAGE_REPAIRED}_{entry_id}"


class _BoxFile(Store[StoredData]):
    """The box's file: older layouts are migrated, a newer one is refused (never overwritten)."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> StoredData:
        if old_major_version > STORAGE_VERSION:
            # Written by a newer version (a downgrade): saving over it would lose what it knows.
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="storage_too_new",
                translation_placeholders={"version": str(old_major_version)},
            )
        # Version 1 is the only layout so far; every minor version only added optional
        # sections, which the validation after loading takes as they come.
        return cast("StoredData", old_data)


class BoxStore:
    """Load once and validate, keep in memory, save with a short delay or at once.

    An acknowledged edit calls `async_flush` before answering: it is on disk then (kill -9 loses
    nothing acknowledged). What changes by itself (resume points, room positions during playback)
    keeps the delay that coalesces bursts.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str, title: str = "") -> None:
        """Initialize the box store."""
        self._hass = hass
        self._entry_id = entry_id
        self._title = title
        self._store = _BoxFile(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,  # a kill during a write leaves the old file, never half a file
        )
        self.data: StoredData = empty_data()
        # Edits are counted: a flush writes only when some edit is not known to be on disk.
        self._changes = 0
        self._written = 0

    async def async_load(self) -> StoredData:
        """Load the stored data (empty when nothing was saved yet), repairing a damaged file."""
        try:
            raw: Any = await self._store.async_load()
        except (KeyError, TypeError, ValueError):
            # Valid JSON without the Store's envelope (version, data): nothing can be read.
            raw = ["unreadable"]
        if raw is None:
            self.data = empty_data()
            return self.data
        data, lost = validate(raw)
        self.data = cast("StoredData", data)
        if lost:
            self._report(lost)
            self._changes += 1  # the repaired data replaces the damaged file
        return self.data

    def _report(self, lost: list[str]) -> None:
        what = "; ".join(lost)
        _LOGGER.warning(
            "Stored data of %s (%s) was damaged; dropped: %s",
            self._title or self._entry_id,
            self._store.path,
            what,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            storage_issue_id(self._entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_STORAGE_REPAIRED,
            translation_placeholders={"name": self._title, "lost": what},
        )

    def schedule_save(self) -> None:
        """Save soon; several changes within the delay are written once."""
        self._changes += 1
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY_SECONDS)

    def _data_to_save(self) -> StoredData:
        return self.data

    async def async_flush(self) -> None:
        """Write every change not yet known to be on disk; return once it is written.

        Called after an acknowledged edit before its answer, and at unload. A delayed save that
        is already being written counts as unknown: `Store.async_save` waits for it and writes
        again, so returning means on disk.
        """
        if self._written < self._changes:
            await self.async_save_now()

    async def async_save_now(self) -> None:
        """Save at once (also what a pending delayed save would have written)."""
        changes = self._changes
        await self._store.async_save(self.data)
        self._written = max(self._written, changes)

    async def async_remove(self) -> None:
        """Delete the file and its repair issue (the entry was removed)."""
        ir.async_delete_issue(self._hass, DOMAIN, storage_issue_id(self._entry_id))
        await self._store.async_remove()


async def async_flush_config_entries(hass: HomeAssistant) -> None:
    """Write Home Assistant's config entries now: a room (a subentry) change was acknowledged.

    HA saves them one second later and has no public flush; this writes what that delayed save
    would write, at once.
    """
    entries = hass.config_entries
    store = getattr(entries, "_store", None)
    data_to_save = getattr(entries, "_data_to_save", None)
    if store is None or data_to_save is None:
        return  # another HA version: its own delayed save still comes
    await store.async_save(data_to_save())
