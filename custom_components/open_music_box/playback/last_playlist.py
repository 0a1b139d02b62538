"""The box's last playlist survives a restart: *Play* on an idle box with an empty queue plays it.

The player keeps it in memory (`last_playlist_id`, kept when the queue is cleared); this writes it
to the box's file when it changes and hands it back to the player at start.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import callback

from ..storage import BoxStore
from .player import Player


class LastPlaylist:
    """Stores the player's last playlist and restores it at start."""

    def __init__(self, store: BoxStore, player: Player) -> None:
        """Keep the store and the player it watches."""
        self._store = store
        self._player = player

    @callback
    def async_start(self) -> Callable[[], None]:
        """Restore the stored playlist (a missing one is refused at play time), then follow."""
        stored = self._store.data.get("last_playlist")
        if stored is not None and self._player.last_playlist_id is None:
            self._player.last_playlist_id = stored["playlist_id"]
        return self._player.async_add_listener(self._changed)

    @callback
    def _changed(self) -> None:
        current = self._player.last_playlist_id
        stored = self._store.data.get("last_playlist")
        if current is None or (stored is not None and stored["playlist_id"] == current):
            return
        self._store.data["last_playlist"] = {"playlist_id": current}
        self._store.schedule_save()  # no acknowledged edit: the save delay is enough
