"""The music box as a media_player entity: it shows the player's state and forwards commands."""

from __future__ import annotations

from datetime import datetime
import hashlib
import logging
from pathlib import Path
from typing import Any

from homeassistant.components import media_source
from homeassistant.components.media_player import (
    BrowseMedia,
    MediaPlayerDeviceClass,
    MediaPlayerEnqueue,
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
    RepeatMode,
    SearchMedia,
    SearchMediaQuery,
)
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError

from .box import MusicBox
from .browse import async_browse, browse_image
from .children.lock import async_check_lock
from .const import (
    DOMAIN,
    PLAYLIST_PREFIX,
    TRACK_PREFIX,
)
from .library import read_cover
from .media_items import async_resolve_file, resolve_media
from .models import Track
from .notices import ATTR_VOLUME_LIMITED, async_volume_limited
from .playback.media_tracks import resolve_media_source, url_track
from .playback.player import Player, PlayState
from .search import CatalogSearch

_LOGGER = logging.getLogger(__name__)

STATES = {
    PlayState.IDLE: MediaPlayerState.IDLE,
    PlayState.PLAYING: MediaPlayerState.PLAYING,
    PlayState.PAUSED: MediaPlayerState.PAUSED,
}

FEATURES = (
    MediaPlayerEntityFeature.PLAY
    | MediaPlayerEntityFeature.PAUSE
    | MediaPlayerEntityFeature.STOP
    | MediaPlayerEntityFeature.NEXT_TRACK
    | MediaPlayerEntityFeature.PREVIOUS_TRACK
    | MediaPlayerEntityFeature.SEEK
    | MediaPlayerEntityFeature.VOLUME_SET
    | MediaPlayerEntityFeature.VOLUME_STEP
    | MediaPlayerEntityFeature.VOLUME_MUTE
    | MediaPlayerEntityFeature.SHUFFLE_SET
    | MediaPlayerEntityFeature.REPEAT_SET
    | MediaPlayerEntityFeature.PLAY_MEDIA
    | MediaPlayerEntityFeature.MEDIA_ENQUEUE
    | MediaPlayerEntityFeature.BROWSE_MEDIA
    | MediaPlayerEntityFeature.CLEAR_PLAYLIST
    | MediaPlayerEntityFeature.SEARCH_MEDIA
)


class MusicBoxMediaPlayer(MediaPlayerEntity):
    """The media player of one box."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_should_poll = False  # the player and the catalog push every change
    _attr_device_class = MediaPlayerDeviceClass.SPEAKER
    _attr_supported_features = FEATURES
    _attr_media_content_type = MediaType.MUSIC
    _attr_volume_step = 0.05
    _attr_media_image_remotely_accessible = False

    def __init__(self, box: MusicBox, player: Player | None = None) -> None:
        """Initialize the music box media player."""
        self._box = box
        self._player = player or box.player
        self._search = CatalogSearch(box.catalog)
        entry = box.entry
        self._attr_unique_id = entry.entry_id
        self._attr_device_info = box.device_info

    async def async_added_to_hass(self) -> None:
        """Follow the player and the catalog (availability); log what the volume cap did."""
        self.async_on_remove(self._player.async_add_listener(self._changed))
        self.async_on_remove(self._player.async_add_volume_limited_listener(self._volume_limited))
        self.async_on_remove(self._box.catalog.async_add_listener(self._changed))
        self.async_on_remove(self._search.async_start())

    @callback
    def _changed(self) -> None:
        self.async_write_ha_state()

    @callback
    def _volume_limited(self, requested: float, maximum: float) -> None:
        """Whoever asked (a dashboard, Assist, a WebSocket client): the log book says why."""
        self._box.entry.async_create_task(
            self.hass, async_volume_limited(self.hass, self.entity_id, requested, maximum)
        )

    # State -----------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Unavailable while the output is down or the library folder is gone."""
        return self._box.available

    @property
    def state(self) -> MediaPlayerState:
        """Return the playback state."""
        return STATES[self._player.state]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Tell whether the box's maximum limited the last requested volume."""
        return {ATTR_VOLUME_LIMITED: self._player.volume_limited}

    @property
    def volume_level(self) -> float:
        """Return the volume (0..1)."""
        return self._player.volume

    @property
    def is_volume_muted(self) -> bool:
        """Return True when muted."""
        return self._player.muted

    @property
    def shuffle(self) -> bool:
        """Return True when shuffling."""
        return self._player.shuffle

    @property
    def repeat(self) -> RepeatMode:
        """Return the repeat mode."""
        return self._player.repeat

    @property
    def _track(self) -> Track | None:
        return self._player.current if self._player.state is not PlayState.IDLE else None

    @property
    def media_content_id(self) -> str | None:
        """Return the current track's media id."""
        track = self._track
        return f"{TRACK_PREFIX}{track.id}" if track else None

    @property
    def media_title(self) -> str | None:
        """Return the title."""
        return track.title if (track := self._track) else None

    @property
    def media_artist(self) -> str | None:
        """Return the artist."""
        return track.artist if (track := self._track) else None

    @property
    def media_album_name(self) -> str | None:
        """Return the album."""
        return track.album if (track := self._track) else None

    @property
    def media_duration(self) -> int | None:
        """Return the duration in seconds."""
        track = self._track
        return round(track.duration) if track and track.duration is not None else None

    @property
    def media_position(self) -> int | None:
        """Return the position written at the last play/pause/seek/track change."""
        return round(self._player.position) if self._track else None

    @property
    def media_position_updated_at(self) -> datetime | None:
        """Return when the position was written (the frontend interpolates from there)."""
        return self._player.position_updated_at if self._track else None

    @property
    def media_playlist(self) -> str | None:
        """Return the name of the playlist being played."""
        if self._player.playlist_id is None:
            return None
        playlist = self._box.catalog.playlist(self._player.playlist_id)
        return playlist.name if playlist else None

    @property
    def media_image_hash(self) -> str | None:
        """Return a hash for the embedded cover (served by async_get_media_image)."""
        track = self._track
        if track is None or not track.has_cover:
            return None
        return hashlib.sha256(track.id.encode()).hexdigest()[:16]

    async def async_get_media_image(self) -> tuple[bytes | None, str | None]:
        """Return the embedded cover of the current track."""
        track = self._track
        if track is None or not track.has_cover:
            return None, None
        cover = await self.hass.async_add_executor_job(read_cover, track.path)
        return cover or (None, None)

    # Commands -----------------------------------------------------------------

    def _shown_name(self) -> str:
        """Return the name the user sees (the state's friendly name)."""
        state = self.hass.states.get(self.entity_id)
        return state.name if state else self._box.entry.title

    def _check_control(self) -> None:
        """Raise when the caller may not control this player (rooms restrict it)."""

    async def async_media_play(self) -> None:
        """Play; an idle box with an empty queue plays its last playlist again."""
        self._check_control()
        player = self._player
        if player.state is PlayState.IDLE and not player.queue:
            last = player.last_playlist_id
            if last is None or self._box.catalog.playlist(last) is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="nothing_to_play",
                    translation_placeholders={"name": self._shown_name()},
                )
            await self._async_play_playlist(last)
            return
        await player.async_play()

    async def async_media_pause(self) -> None:
        """Pause."""
        self._check_control()
        await self._player.async_pause()

    async def async_media_stop(self) -> None:
        """Stop."""
        self._check_control()
        await self._player.async_stop()

    async def async_media_next_track(self) -> None:
        """Next track."""
        self._check_control()
        await self._player.async_next()

    async def async_media_previous_track(self) -> None:
        """Previous track (or restart the current one)."""
        self._check_control()
        await self._player.async_previous()

    async def async_media_seek(self, position: float) -> None:
        """Seek."""
        self._check_control()
        await async_check_lock(self.hass, self._box.entry, self._context, "player/seek")
        await self._player.async_seek(position)

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the volume; above the box's maximum, say so (attribute, log book, Assist)."""
        self._check_control()
        await self._player.async_set_volume(volume)

    async def async_mute_volume(self, mute: bool) -> None:
        """Mute."""
        self._check_control()
        await self._player.async_set_mute(mute)

    async def async_set_shuffle(self, shuffle: bool) -> None:
        """Shuffle."""
        self._check_control()
        await async_check_lock(self.hass, self._box.entry, self._context, "player/shuffle")
        await self._player.async_set_shuffle(shuffle)

    async def async_set_repeat(self, repeat: RepeatMode) -> None:
        """Repeat."""
        self._check_control()
        await async_check_lock(self.hass, self._box.entry, self._context, "player/repeat")
        await self._player.async_set_repeat(repeat)

    async def async_clear_playlist(self) -> None:
        """Empty the queue."""
        self._check_control()
        await async_check_lock(self.hass, self._box.entry, self._context, "player/clear")
        await self._player.async_clear()

    async def async_play_media(
        self,
        media_type: MediaType | str,
        media_id: str,
        enqueue: MediaPlayerEnqueue | None = None,
        **kwargs: Any,
    ) -> None:
        """Play our playlist/track ids, media-source ids or http(s) URLs."""
        self._check_control()
        await async_check_lock(self.hass, self._box.entry, self._context, "player/play_media")
        mode = enqueue or MediaPlayerEnqueue.REPLACE
        if mode is MediaPlayerEnqueue.REPLACE and media_id.startswith(PLAYLIST_PREFIX):
            # Like every other way in (tags, voice, WebSocket): resume and links apply.
            resolve_media(
                self._box.catalog, media_id
            )  # unknown ids: the translated unknown_media error
            await self._async_play_playlist(media_id.removeprefix(PLAYLIST_PREFIX))
            return
        playlist_id: str | None = None
        if media_source.is_media_source_id(media_id):
            track = await resolve_media_source(self.hass, media_id, self.entity_id)
            # A file of the library is the box's track (tags, cover, its playlist).
            items = (
                None
                if track.is_url
                else await async_resolve_file(self._box.catalog, Path(track.path))
            )
            if items is None:
                tracks = [track]
            elif items.whole_playlist and mode is MediaPlayerEnqueue.REPLACE and items.playlist_id:
                await self._async_play_playlist(items.playlist_id)  # an m3u of the library
                return
            else:
                tracks, playlist_id = items.tracks, items.playlist_id
        elif media_id.startswith(("http://", "https://")):
            tracks = [url_track(media_id)]
        else:
            items = resolve_media(self._box.catalog, media_id)
            tracks, playlist_id = items.tracks, items.playlist_id
        if not tracks:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="empty_playlist",
                translation_placeholders={"media_id": media_id},
            )
        await self._player.async_play_tracks(tracks, mode, playlist_id=playlist_id)

    async def _async_play_playlist(self, playlist_id: str) -> None:
        await self._box.async_play_playlist(playlist_id)

    # Searching (Assist's "play X on <box>" searches, then plays the first result) ---------

    async def async_search_media(self, query: SearchMediaQuery) -> SearchMedia:
        """Search playlists (first) and tracks by name, title, artist and album."""
        return SearchMedia(
            result=self._search.search(
                query.search_query, query.media_filter_classes, query.media_content_id
            )
        )

    # Browsing -----------------------------------------------------------------

    async def async_browse_media(
        self, media_content_type: MediaType | str | None = None, media_content_id: str | None = None
    ) -> BrowseMedia:
        """Browse the library (playlists → tracks) and Home Assistant's media sources."""
        return await async_browse(
            self.hass, self._box.catalog, self._box.entry.title, media_content_id, self._image_url
        )

    def _image_url(self, media_type: str, media_id: str) -> str:
        """Return the URL of a tile's cover, served by Home Assistant's media player proxy."""
        return self.get_browse_image_url(media_type, media_id)

    async def async_get_browse_image(
        self, media_content_type: str, media_content_id: str, media_image_id: str | None = None
    ) -> tuple[bytes | None, str | None]:
        """Return the cover of a playlist or track tile (embedded, or the folder's image)."""
        image = await self.hass.async_add_executor_job(
            browse_image, self._box.catalog, media_content_id
        )
        return image or (None, None)
