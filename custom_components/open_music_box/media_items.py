"""Our media ids (playlist:…, track:…) and library files, turned into the tracks they stand for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homeassistant.exceptions import ServiceValidationError

from .catalog import Catalog
from .const import DOMAIN, PLAYLIST_PREFIX, TRACK_PREFIX
from .models import Track


@dataclass(slots=True)
class MediaItems:
    """Tracks resolved from a media id, with the playlist they came from."""

    tracks: list[Track]
    playlist_id: str | None = None
    whole_playlist: bool = False  # a playlist (m3u) was asked for, not one of its tracks


def resolve_media(catalog: Catalog, media_id: str) -> MediaItems:
    """Turn one of our media ids into tracks; raise the translated unknown_media when unknown."""
    if media_id.startswith(PLAYLIST_PREFIX):
        playlist = catalog.playlist(media_id.removeprefix(PLAYLIST_PREFIX))
        if playlist is not None:
            return MediaItems(catalog.tracks_of(playlist), playlist.id)
    elif media_id.startswith(TRACK_PREFIX):
        track = catalog.track(media_id.removeprefix(TRACK_PREFIX))
        if track is not None:
            return MediaItems([track])
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_media",
        translation_placeholders={"media_id": media_id},
    )


async def async_resolve_file(catalog: Catalog, path: Path) -> MediaItems | None:
    """Recognise a file of the library (from HA's media browser) as ours; None if not."""
    track, playlist = await catalog.async_file_item(path)
    if track is not None:
        return MediaItems([track], playlist.id if playlist else None)
    if playlist is not None:
        return MediaItems(catalog.tracks_of(playlist), playlist.id, whole_playlist=True)
    return None
