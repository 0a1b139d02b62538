"""The library's items as Home Assistant media items (browsing and voice search share them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
import logging
from typing import TYPE_CHECKING

from homeassistant.components import media_source
from homeassistant.components.media_player import BrowseError, BrowseMedia, MediaClass, MediaType
from homeassistant.core import HomeAssistant

from .const import MEDIA_TYPE_LIBRARY, PLAYLIST_PREFIX, TRACK_PREFIX
from .library.covers import playlist_cover_track, track_cover, tracks_with_cover
from .models import Playlist, Track

if TYPE_CHECKING:
    from .catalog import Catalog

_LOGGER = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    """Return a duration as m:ss, or h:mm:ss from an hour on."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def total_duration(tracks: Iterable[Track]) -> float | None:
    """Return the summed duration of the tracks whose duration is known (None if none is)."""
    known = [track.duration for track in tracks if track.duration is not None]
    return sum(known) if known else None


def with_duration(title: str, seconds: float | None) -> str:
    """Append the duration to a title (BrowseMedia has no duration field of its own)."""
    return f"{title} · {format_duration(seconds)}" if seconds is not None else title


def playlist_item(
    media_id: str,
    title: str,
    children: list[BrowseMedia] | None = None,
    thumbnail: str | None = None,
) -> BrowseMedia:
    """Return a playable, expandable playlist item (`playlist:<id>`)."""
    return BrowseMedia(
        media_class=MediaClass.PLAYLIST,
        media_content_id=media_id,
        media_content_type=MediaType.PLAYLIST,
        title=title,
        can_play=True,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.TRACK,
        thumbnail=thumbnail,
    )


def track_item(media_id: str, title: str, thumbnail: str | None = None) -> BrowseMedia:
    """Return a playable track item (`track:<id>`)."""
    return BrowseMedia(
        media_class=MediaClass.TRACK,
        media_content_id=media_id,
        media_content_type=MediaType.TRACK,
        title=title,
        can_play=True,
        can_expand=False,
        thumbnail=thumbnail,
    )


# Browsing the library: tiles with covers (served by the entity's image proxy) and durations.

type ImageUrl = Callable[[str, str], str]


def library_tiles(
    catalog: Catalog, playlists: list[Playlist], image_url: ImageUrl
) -> list[BrowseMedia]:
    """Return the playlists' tiles; blocking (looks for covers): call from the executor."""
    tiles = []
    for playlist in playlists:
        tracks = catalog.tracks_of(playlist)
        media_id = f"{PLAYLIST_PREFIX}{playlist.id}"
        thumbnail = (
            image_url(MediaType.PLAYLIST, media_id) if playlist_cover_track(tracks) else None
        )
        title = with_duration(playlist.name, total_duration(tracks))
        tiles.append(playlist_item(media_id, title, thumbnail=thumbnail))
    return tiles


def playlist_tile(catalog: Catalog, playlist: Playlist, image_url: ImageUrl) -> BrowseMedia:
    """Return an opened playlist with its tracks; blocking (looks for covers): the executor."""
    tracks = catalog.tracks_of(playlist)
    covered = tracks_with_cover(tracks)
    children = []
    for track in tracks:
        media_id = f"{TRACK_PREFIX}{track.id}"
        thumbnail = image_url(MediaType.TRACK, media_id) if track.id in covered else None
        children.append(track_item(media_id, with_duration(track.title, track.duration), thumbnail))
    cover = playlist_cover_track(tracks)
    media_id = f"{PLAYLIST_PREFIX}{playlist.id}"
    thumbnail = image_url(MediaType.PLAYLIST, media_id) if cover else None
    return playlist_item(media_id, playlist.name, children, thumbnail)


def browse_image(catalog: Catalog, media_id: str) -> tuple[bytes, str] | None:
    """Return the cover of a `playlist:`/`track:` id; blocking: call from the executor."""
    track: Track | None = None
    if media_id.startswith(TRACK_PREFIX):
        track = catalog.track(media_id.removeprefix(TRACK_PREFIX))
    elif media_id.startswith(PLAYLIST_PREFIX) and (
        playlist := catalog.playlist(media_id.removeprefix(PLAYLIST_PREFIX))
    ):
        track = playlist_cover_track(catalog.tracks_of(playlist))
    return track_cover(track) if track is not None else None


def _audio_only(item: BrowseMedia) -> bool:
    return item.media_content_type.startswith("audio/")


async def async_browse(
    hass: HomeAssistant,
    catalog: Catalog,
    title: str,
    media_content_id: str | None,
    image_url: ImageUrl,
) -> BrowseMedia:
    """Browse the library (playlists → tracks) and Home Assistant's media sources (audio only)."""
    if media_content_id and media_source.is_media_source_id(media_content_id):
        return await media_source.async_browse_media(
            hass, media_content_id, content_filter=_audio_only
        )
    if media_content_id and media_content_id.startswith(PLAYLIST_PREFIX):
        playlist = catalog.playlist(media_content_id.removeprefix(PLAYLIST_PREFIX))
        if playlist is None:
            raise BrowseError(f"Unknown playlist {media_content_id}")
        return await hass.async_add_executor_job(playlist_tile, catalog, playlist, image_url)
    children = await hass.async_add_executor_job(
        library_tiles, catalog, catalog.playlists(), image_url
    )
    try:
        sources = await media_source.async_browse_media(hass, None, content_filter=_audio_only)
    except BrowseError as err:  # e.g. HA's media folder is missing: the library still browses
        _LOGGER.debug("Media sources not browsable: %s", err)
    else:
        sources.title = "Media"
        children.append(sources)
    return BrowseMedia(
        media_class=MediaClass.DIRECTORY,
        media_content_id=MEDIA_TYPE_LIBRARY,
        media_content_type=MEDIA_TYPE_LIBRARY,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.PLAYLIST,
    )
