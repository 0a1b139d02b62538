"""The playlists a tag may start at bedtime (the box's and its rooms')."""

from __future__ import annotations

from homeassistant.core import callback

from ..catalog import Catalog
from ..storage import BoxStore


class BedtimePlaylists:
    """Playlists marked for bedtime, stored with the box."""

    def __init__(self, store: BoxStore, catalog: Catalog) -> None:
        """Initialize the bedtime playlists."""
        self._store = store
        self._catalog = catalog

    @property
    def _marked(self) -> dict[str, bool]:
        return self._store.data.setdefault("bedtime_playlists", {})

    def __contains__(self, playlist_id: object) -> bool:
        """Return True when the playlist is one of them."""
        return playlist_id in self._marked

    @callback
    def set(self, playlist_id: str, bedtime: bool) -> None:
        """Mark a playlist as one for bedtime, or not."""
        self._catalog.require_playlist(playlist_id)
        if bedtime:
            self._marked[playlist_id] = True
        else:
            self._marked.pop(playlist_id, None)
        self._store.schedule_save()

    def playlists(self) -> list[str]:
        """Return the bedtime playlists that still exist."""
        return sorted(p for p in self._marked if self._catalog.playlist(p) is not None)

    def __len__(self) -> int:
        """Return how many entries there are."""
        return len(self._marked)
