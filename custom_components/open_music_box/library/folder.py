"""The library folder of one box: merged rescans, the watch's changes, a periodic check, the repair.

The folder may be renamed, unmounted or come back: the watch (inotify) sees files change, a
periodic check sees what it cannot (the folder itself gone or back), and either way the catalog is
rescanned, the repair issue follows, and a library track that can no longer play is stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from ..catalog import Catalog
from ..const import DOMAIN, ISSUE_LIBRARY_MISSING, LIBRARY_CHECK_INTERVAL_SECONDS
from ..playback.player import Player, PlayState
from .watch import LibraryWatch

_LOGGER = logging.getLogger(__name__)


class LibraryFolder:
    """Keeps the catalog in step with the library folder."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        catalog: Catalog,
        players: Callable[[], Iterable[Player]],
    ) -> None:
        """Initialize the library folder."""
        self._hass = hass
        self._entry = entry
        self._catalog = catalog
        self._players = players  # the box's and its rooms': each may play the library
        self.watch = LibraryWatch(hass, catalog.root, self._async_library_changed)
        self._unsub: CALLBACK_TYPE | None = None
        self._closed = False
        self._rescanning: asyncio.Task[None] | None = None
        self._rescans_wanted = self._rescans_done = 0

    async def async_start(self) -> None:
        """Watch the folder (when it is there) and check for it periodically."""
        if self._catalog.available:
            await self.watch.async_start()
        self._unsub = async_track_time_interval(
            self._hass,
            self._async_check_folder,
            timedelta(seconds=LIBRARY_CHECK_INTERVAL_SECONDS),
            name=f"{DOMAIN} library folder check",
        )

    async def async_stop(self) -> None:
        """Stop watching and checking."""
        self._closed = True
        await self.watch.async_stop()
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    async def async_rescan(self) -> None:
        """Rescan the library; a missing folder raises the repair issue.

        Requests made while a scan runs merge into one follow-up scan (a scan reads the whole
        folder: fifty clicks must not queue fifty of them); every caller returns after a scan
        that started after its request.
        """
        self._rescans_wanted += 1
        if self._rescanning is None or self._rescanning.done():
            self._rescanning = self._entry.async_create_task(
                self._hass, self._async_rescans(), f"{DOMAIN} rescan"
            )
        await asyncio.shield(self._rescanning)

    async def _async_rescans(self) -> None:
        while self._rescans_done < self._rescans_wanted:
            wanted = self._rescans_wanted
            was_available = self._catalog.available
            await self._catalog.async_rescan()
            await self._async_scanned(was_available)
            self._rescans_done = wanted

    async def _async_library_changed(self) -> None:
        """Rescan after the watch saw files come, change or go (quietly if nothing changed)."""
        if self._closed:
            return
        if not await self._catalog.async_folder_exists():
            if not self._closed:
                await self.async_folder_gone()
            return
        was_available = self._catalog.available
        await self._catalog.async_rescan(only_changes=True)
        if not self._closed:  # the entry may have unloaded during the scan
            await self._async_scanned(was_available)

    async def _async_check_folder(self, _now: datetime) -> None:
        """Notice what the watch cannot: the folder renamed, unmounted, or back again."""
        exists = await self._catalog.async_folder_exists()
        if exists and not self._catalog.available:
            _LOGGER.info("Library folder %s is back", self._catalog.root)
            await self.async_rescan()
        elif not exists and self._catalog.available:
            await self.async_folder_gone()

    async def _async_scanned(self, was_available: bool) -> None:
        self.sync_issue()
        if not self._catalog.available:
            await self._async_stop_library_playback()
        elif (
            (not was_available or not self.watch.watching)
            and not self._closed
            # A folder that came back is a new folder to inotify: watch it again, then look once
            # more for what arrived between the scan and the start of the watch.
            and await self.watch.async_start()
        ):
            await self._catalog.async_rescan(only_changes=True)

    async def async_folder_gone(self) -> None:
        """Mark the folder gone: unavailable, the repair issue, library playback stopped."""
        self._catalog.mark_unavailable()
        self.sync_issue()
        await self._async_stop_library_playback()

    async def _async_stop_library_playback(self) -> None:
        """Stop library tracks: their folder is gone, so neither they nor the next can go on."""
        for player in self._players():
            track = player.current
            if player.state is not PlayState.IDLE and track is not None and not track.is_url:
                _LOGGER.warning("Library folder %s vanished: playback stopped", self._catalog.root)
                await player.async_stop()

    @callback
    def sync_issue(self) -> None:
        """Raise or clear the "library folder missing" repair issue."""
        issue_id = f"{ISSUE_LIBRARY_MISSING}_{self._entry.entry_id}"
        if self._catalog.available:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_LIBRARY_MISSING,
            translation_placeholders={"name": self._entry.title, "path": str(self._catalog.root)},
        )
