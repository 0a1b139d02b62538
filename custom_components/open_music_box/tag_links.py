"""The tag links of one box, as stored, read against its catalog (a gone playlist: stale)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback

from .catalog import validation_error
from .storage import StoredTagLink
from .tag_model import redacted

if TYPE_CHECKING:
    from .catalog import Catalog
    from .models import Playlist
    from .storage import BoxStore


class TagLinks:
    """Which playlist each tag starts: read, checked, written."""

    def __init__(self, store: BoxStore, catalog: Catalog) -> None:
        """Initialize the tag links."""
        self._store = store
        self._catalog = catalog

    @property
    def _links(self) -> dict[str, StoredTagLink]:
        return self._store.data.setdefault("tags", {})

    def playlist(self, link: StoredTagLink | None) -> Playlist | None:
        """Return the playlist a link starts (None: no link, or its playlist is gone)."""
        return None if link is None else self._catalog.playlist(link["playlist_id"])

    def valid(self, tag_id: str) -> StoredTagLink | None:
        """Return the tag's link when its playlist still exists (a stale link counts as none)."""
        link = self._links.get(tag_id)
        return None if self.playlist(link) is None else link

    def as_dict(self, tag_id: str, link: StoredTagLink) -> dict[str, Any]:
        """Describe a link for clients (`stale`: its playlist no longer exists)."""
        playlist = self.playlist(link)
        return {
            "tag_id": tag_id,
            "playlist_id": link["playlist_id"],
            "playlist_name": None if playlist is None else playlist.name,
            "start_track_id": link.get("start_track_id"),
            "shuffle": link.get("shuffle"),
            "target": link["target"],
            "stale": playlist is None,
        }

    def as_list(self) -> list[dict[str, Any]]:
        """Return every link, sorted by tag id."""
        return [self.as_dict(tag_id, self._links[tag_id]) for tag_id in sorted(self._links)]

    def check_target(self, playlist_id: str, start_track_id: str | None) -> None:
        """Refuse a playlist that does not exist, or a start track that is not in it."""
        playlist = self._catalog.require_playlist(playlist_id)
        if start_track_id is not None and start_track_id not in playlist.track_ids:
            raise validation_error("track_not_in_playlist", track_id=start_track_id)

    def exists(self, playlist_id: str) -> bool:
        """Return True while the playlist exists (a session may outlive it)."""
        return self._catalog.playlist(playlist_id) is not None

    @callback
    def put(self, tag_id: str, link: StoredTagLink) -> None:
        """Store a link (written after the store's delay)."""
        self._links[tag_id] = link
        self._store.schedule_save()

    @callback
    def pop(self, tag_id: str) -> StoredTagLink:
        """Remove a tag's link; raise unknown_tag when it has none."""
        if tag_id not in self._links:
            raise validation_error("unknown_tag", tag_id=tag_id)
        link = self._links.pop(tag_id)
        self._store.schedule_save()
        return link

    def flush(self) -> Coroutine[Any, Any, None]:
        """Return the coroutine that writes the links now (a scan's link is not delayed)."""
        return self._store.async_flush()

    def diagnostics(self) -> dict[str, Any]:
        """Return the link count and the stale links (ids redacted)."""
        stale = [
            {"tag": redacted(tag_id), "playlist_id": link["playlist_id"]}
            for tag_id, link in sorted(self._links.items())
            if self.playlist(link) is None
        ]
        return {"links": len(self._links), "stale_links": stale}
