"""Watch the library folder, so new, changed and removed music shows up without a rescan.

watchdog (as HA's folder_watcher) reports changes on its own thread; they hop into the event
loop with `call_soon_threadsafe` and feed a Debouncer, so a burst (an album copied over SMB,
an import moving twenty files) costs one rescan after it, not one per file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.debounce import Debouncer
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

_LOGGER = logging.getLogger(__name__)

# Seconds between two rescans of a burst: a copy's last file is seen this long after it lands.
WATCH_COOLDOWN: Final = 1.0

# What changes the library. Not opens, reads and plain writes: the scan itself opens every new
# file (a watch on opens would rescan forever) and a copy in progress writes many times; its
# close (FileClosedEvent: closed after writing) is the moment the file is whole.
WATCHED_EVENTS: Final[list[type[FileSystemEvent]]] = [
    FileCreatedEvent,  # also a file moved in from outside the library, or a new symlink
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,  # the root itself too: the folder vanished
    DirMovedEvent,
]


def _visible(root: str, path: str) -> bool:
    """Return True unless the path lies in a hidden file or folder (the scan skips those)."""
    if not path:
        return False
    rel = os.path.relpath(path, root)
    if rel == ".":
        return True
    return not any(part.startswith(".") for part in Path(rel).parts)


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: keep what the scan would see, hand it to the loop."""

    def __init__(self, root: str, changed: Callable[[], None]) -> None:
        self._root = root
        self._changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [os.fsdecode(event.src_path), os.fsdecode(event.dest_path)]
        if any(_visible(self._root, path) for path in paths):
            self._changed()


class LibraryWatch:
    """A watchdog observer on the library folder that calls `on_change` after each burst."""

    def __init__(
        self,
        hass: HomeAssistant,
        root: Path,
        on_change: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        """Initialize the library watch."""
        self._hass = hass
        self._root = root
        self._observer: BaseObserver | None = None
        self._closed = False
        self._lock = asyncio.Lock()
        self._debouncer = Debouncer(
            hass,
            _LOGGER,
            cooldown=WATCH_COOLDOWN,
            immediate=False,
            function=on_change,
            background=True,  # a rescan after a copy is no work HA waits for
        )

    @property
    def watching(self) -> bool:
        """Return True while an observer runs on the folder."""
        return self._observer is not None

    async def async_start(self) -> bool:
        """(Re)start watching; return False when the folder cannot be watched (missing...)."""
        async with self._lock:  # two starts at once would leave one observer running
            return await self._async_start()

    async def _async_start(self) -> bool:
        await self._async_stop_observer()
        if self._closed:
            return False
        try:
            observer = await self._hass.async_add_executor_job(self._start_observer)
        except OSError as err:  # missing folder, or the host's inotify watch limit reached
            _LOGGER.warning(
                "Cannot watch the library folder %s (%s): new music shows up after a rescan",
                self._root,
                err,
            )
            return False
        if self._stopped():  # closed while the observer started
            await self._hass.async_add_executor_job(_stop_observer, observer)
            return False
        self._observer = observer
        return True

    def _stopped(self) -> bool:
        return self._closed

    def _start_observer(self) -> BaseObserver:
        observer = Observer()
        root = os.path.abspath(self._root)
        handler = _Handler(os.path.realpath(root), self._from_thread)
        # The real path: inotify reports paths under the folder it was given.
        observer.schedule(
            handler, os.path.realpath(root), recursive=True, event_filter=WATCHED_EVENTS
        )
        observer.start()  # raises OSError (and starts no thread) when the folder is missing
        return observer

    def _from_thread(self) -> None:
        """From watchdog's thread: schedule the debounced rescan in the event loop."""
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: HA stops
            self._hass.loop.call_soon_threadsafe(self._schedule)

    @callback
    def _schedule(self) -> None:
        if not self._closed:
            self._debouncer.async_schedule_call()

    async def async_stop(self) -> None:
        """Stop for good (the entry is unloading): no rescan runs after this."""
        self._closed = True
        self._debouncer.async_shutdown()
        async with self._lock:
            await self._async_stop_observer()

    async def _async_stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            # Joined off the loop, so no watchdog thread outlives the entry.
            await self._hass.async_add_executor_job(_stop_observer, observer)


def _stop_observer(observer: BaseObserver) -> None:
    observer.stop()
    observer.join()
