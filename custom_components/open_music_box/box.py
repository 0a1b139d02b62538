"""One music box (a config entry): its catalog, its player, and the watch on its library folder."""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path

from homeassistant.components.media_player import (
    MediaPlayerEnqueue,
    async_process_play_media_url,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo

from .catalog import Catalog, validation_error
from .children.bedtime_playlists import BedtimePlaylists
from .children.chime import Chime
from .children.const import CONF_MIN_VOLUME, DEFAULT_MIN_VOLUME
from .children.daily_limit import DailyLimit
from .children.guard import Guard
from .children.readers import Readers
from .children.resume import PlaylistMode, Resume
from .children.room_bedtime import RoomBedtime
from .children.sleep_timer import SleepTimer
from .children.wiring import box_bedtime, daily_limit_links, guard_links, room_bedtimes
from .const import (
    CONF_AUDIO_DEVICE,
    CONF_CLIENT_ID,
    CONF_DEFAULT_VOLUME,
    CONF_LIBRARY_PATH,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_PREVIOUS_RESTART_SECONDS,
    CONF_TARGET_ENTITY,
    DEFAULT_MAX_VOLUME,
    DEFAULT_PREVIOUS_RESTART_SECONDS,
    DEFAULT_VOLUME,
    DOMAIN,
    OUTPUT_MPV,
    OUTPUT_SENDSPIN,
    SUBENTRY_ROOM,
)
from .devices import (
    DEFAULT_MODELS,
    MODEL_MPV,
    MODEL_RELAY,
    async_device_models,
    suggested_area,
)
from .events import EventLog, LiveState, track_dict
from .imports.importer import Importer
from .library.folder import LibraryFolder
from .models import Track
from .playback.last_playlist import LastPlaylist
from .playback.outputs.base import Output
from .playback.outputs.entity import EntityOutput
from .playback.outputs.mpv import MpvOutput
from .playback.outputs.sendspin import SendspinOutput
from .playback.player import Player, PlayerSettings
from .sendspin.server import SendspinHub
from .storage import BoxStore
from .sync.room import Room, require_room
from .sync.room_parts import RoomParts
from .tag_links import TagLinks
from .tag_play import LinkPlayer
from .tags import TagManager

_LOGGER = logging.getLogger(__name__)

type OpenMusicBoxConfigEntry = ConfigEntry[MusicBox]


def settings_from_options(entry: ConfigEntry) -> PlayerSettings:
    """Read the player settings from the entry's options (percentages in the UI)."""
    options = entry.options
    return PlayerSettings(
        max_volume=options.get(CONF_MAX_VOLUME, DEFAULT_MAX_VOLUME) / 100,
        min_volume=options.get(CONF_MIN_VOLUME, DEFAULT_MIN_VOLUME) / 100,
        default_volume=options.get(CONF_DEFAULT_VOLUME, DEFAULT_VOLUME) / 100,
        previous_restart_seconds=options.get(
            CONF_PREVIOUS_RESTART_SECONDS, DEFAULT_PREVIOUS_RESTART_SECONDS
        ),
    )


def media_url_path(entry_id: str, track_id: str) -> str:
    """Return the path of the view that serves a track to other media players."""
    return f"/api/{DOMAIN}/media/{entry_id}/{track_id}"


class MusicBox:
    """Everything one config entry runs."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Initialize the music box."""
        self.hass = hass
        self.entry = entry
        self.store = BoxStore(hass, entry.entry_id, entry.title)
        self.catalog = Catalog(hass, Path(entry.data[CONF_LIBRARY_PATH]), self.store)
        self.sendspin = SendspinHub(hass, entry)  # before the player: it may be its output
        self.player = Player(
            hass, self._make_output, settings_from_options(entry), require=self.async_require_media
        )
        self.resume = Resume(hass, self.store, self.catalog, self.player)
        self.sleep_timer = SleepTimer(hass, self.player)
        self.events = EventLog(hass, entry, self.store)
        self.rooms: dict[str, Room] = {}  # filled at setup (the readers see it filled)
        self.readers = Readers(hass, self.store, entry, self.rooms)
        self.daily_limit = DailyLimit(hass, daily_limit_links(self))
        self.bedtime_playlists = BedtimePlaylists(self.store, self.catalog)
        self.bedtime = box_bedtime(self)
        self.room_bedtimes: dict[str, RoomBedtime] = {}  # filled once the rooms exist
        self.chime = Chime(hass)
        self.guard = Guard(hass, guard_links(self))
        self.live = LiveState(
            hass,
            self.events,
            self.player,
            self.catalog,
            mode=self.resume.mode,
            sleep_ends_at=lambda: self.sleep_timer.ends_at,
        )
        self.tags = TagManager(
            hass,
            entry,
            links=TagLinks(self.store, self.catalog),
            events=self.events,
            readers=self.readers,
            guard=self.guard,
            player=LinkPlayer(
                entry, self.catalog, self.player, self.rooms, self.async_play_playlist
            ),
        )
        self.importer = Importer(hass, entry, self.catalog, self.events, self.async_rescan)
        # Each part provides its share of a subscriber's snapshot (after the live state's).
        self.events.add_snapshot_part("tags", self.tags.list_links)
        self.events.add_snapshot_part("imports", self.importer.jobs)
        self.events.add_snapshot_part("rooms", lambda: [r.snapshot() for r in self.rooms.values()])
        players = lambda: [self.player, *(room.player for room in self.rooms.values())]  # noqa: E731
        self.folder = LibraryFolder(hass, entry, self.catalog, players)
        self.watch = self.folder.watch
        self.models = dict(DEFAULT_MODELS)  # translated in async_setup
        self._unsubs: list[Callable[[], None]] = []
        self._closed = False

    def _make_output(self) -> Output:
        if self.entry.data[CONF_OUTPUT] == OUTPUT_MPV:
            return MpvOutput(self.hass, self.entry.data[CONF_AUDIO_DEVICE])
        if self.entry.data[CONF_OUTPUT] == OUTPUT_SENDSPIN:
            return SendspinOutput(self.hass, self.entry, self.sendspin, self.output_player)
        return EntityOutput(self.hass, self.entry.data[CONF_TARGET_ENTITY], self.url_for)

    def output_player(self) -> str | None:
        """Return the Sendspin player the box plays on: the chosen one, else the first added."""
        if chosen := self.entry.data.get(CONF_CLIENT_ID):
            return str(chosen)
        return next(iter(self.sendspin.configured()), None)

    def url_for(self, track: Track) -> str:
        """Return a URL the target media player can fetch (signed when it points at HA)."""
        if track.is_url:
            return track.path
        return async_process_play_media_url(self.hass, self.media_path(track))

    def media_path(self, track: Track) -> str:
        """Return the path of the view serving one of the library's tracks."""
        return media_url_path(self.entry.entry_id, track.id)

    @property
    def device_info(self) -> DeviceInfo:
        """Return the box's device, for every entity of the box."""
        kind = MODEL_MPV if self.entry.data[CONF_OUTPUT] == OUTPUT_MPV else MODEL_RELAY
        return DeviceInfo(
            identifiers={(DOMAIN, self.entry.entry_id)},
            name=self.entry.title,
            manufacturer="Open Music Box",
            model=self.models[kind],
            # In the area of its name: "pause" said in that area then reaches the box.
            suggested_area=suggested_area(self.hass, self.entry.title),
        )

    @property
    def available(self) -> bool:
        """Return True when the box can play (output works and library folder present)."""
        return self.live.available

    async def async_setup(self) -> None:
        """Load stored data, scan, open the output; raise OutputError if it cannot be opened."""
        self.models = await async_device_models(self.hass)
        await self.store.async_load()
        await self.importer.async_start()  # before the scan: leftovers of a restart go first
        await self.catalog.async_rescan()
        self.folder.sync_issue()
        await self.sendspin.async_start()  # before the player: its output may be a player of it
        await self.player.async_start()
        await self.player.async_apply_settings(self.player_settings())  # bedtime is stored
        await self.events.async_start()
        self.live.async_start(self.sleep_timer.async_add_listener)
        self._unsubs.append(self.player.async_add_skipped_listener(self._on_skipped))
        self._unsubs.append(LastPlaylist(self.store, self.player).async_start())
        await self.folder.async_start()
        self.tags.async_start()
        parts = RoomParts(
            entry=self.entry,
            store=self.store,
            catalog=self.catalog,
            events=self.events,
            sendspin=self.sendspin,
            url_for=self.url_for,
            media_path=self.media_path,
        )
        for subentry in self.entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_ROOM:
                room = Room(self.hass, parts, subentry, self.player.settings)
                self.rooms[subentry.subentry_id] = room
                await room.async_start()
        rooms = [room.player for room in self.rooms.values()]
        self.resume.async_start(rooms)
        self.daily_limit.async_start([self.player, *rooms])
        self.room_bedtimes.update(room_bedtimes(self))
        for bedtime in (self.bedtime, *self.room_bedtimes.values()):
            bedtime.async_start()
        await self.async_apply_volume_limits()  # a bedtime caught up with its schedule

    async def async_close(self) -> None:
        """Stop watching and publishing, write pending edits, release the output."""
        if self._closed:
            return  # HA's stop and an unload may both close the box
        self._closed = True
        await self.folder.async_stop()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self.sleep_timer.async_close()
        for bedtime in (self.bedtime, *self.room_bedtimes.values()):
            bedtime.async_stop()
            await bedtime.sleep_timer.async_close()
        await self.daily_limit.async_close()  # before the flush: today's minutes are written
        for room in self.rooms.values():
            await room.async_close()
        await self.sendspin.async_stop()
        self.resume.async_stop()  # before the flush: where an audiobook stops is written
        self.tags.async_stop()  # before the event log: an open session streams its end
        await self.importer.async_close()  # before the log too: cancelled imports say so
        self.live.async_stop()
        self.events.async_stop()
        await self.store.async_flush()
        await self.player.async_close()

    async def async_rescan(self) -> None:
        """Rescan the library (requests during a scan merge into one follow-up scan)."""
        await self.folder.async_rescan()

    @callback
    def _on_skipped(self, track: Track, reason: str) -> None:
        """Tell clients which track could not be played and why (a `player` event)."""
        skipped = {"track": track_dict(track), "reason": reason}
        self.events.publish("player", {**self.live.player_state(), "skipped": skipped})

    async def async_require_media(self, track: Track) -> None:
        """Raise library_unavailable when a file of it cannot be played (the folder is looked at).

        A command before the watch noticed a vanished folder fails at once too.
        """
        if not track.is_url and self.catalog.available:
            if not await self.catalog.async_folder_exists():
                self.catalog.mark_unavailable()  # this command fails, not only the next
                self.entry.async_create_task(
                    self.hass, self.folder.async_folder_gone(), f"{DOMAIN} library gone"
                )
        self.require_media(track)

    def require_media(self, track: Track) -> None:
        """Raise library_unavailable when the library is known to be gone."""
        if not track.is_url and not self.catalog.available:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="library_unavailable",
                translation_placeholders={"name": self.entry.title},
            )

    def rooms_changed(self) -> bool:
        """Return True when rooms were added or removed (the entry reloads for that)."""
        configured = {
            subentry.subentry_id
            for subentry in self.entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_ROOM
        }
        return configured != self.rooms.keys()

    def player_settings(self, room_id: str | None = None) -> PlayerSettings:
        """Return the options' player settings, with bedtime's lower maximum when it is on.

        For a room, the room's own bedtime counts as well as the box's.
        """
        settings = settings_from_options(self.entry)
        room = self.room_bedtimes.get(room_id) if room_id is not None else None
        if self.bedtime.active or (room is not None and room.active):
            settings.max_volume = min(settings.max_volume, self.bedtime.max_volume)
        return settings

    async def async_apply_volume_limits(self) -> None:
        """Apply the maximum and the floor to the box and its rooms (options, bedtime)."""
        await self.player.async_apply_settings(self.player_settings())
        for room_id, room in self.rooms.items():
            await room.player.async_apply_settings(self.player_settings(room_id))

    async def async_apply_options(self) -> None:
        """Options or a room changed: apply them without a reload."""
        await self.async_apply_volume_limits()
        self.daily_limit.apply_options()
        for bedtime in (self.bedtime, *self.room_bedtimes.values()):
            bedtime.apply_options()
        for room_id, room in self.rooms.items():
            await room.async_apply_config(self.entry.subentries[room_id])

    def room(self, room_id: str) -> Room:
        """Return a room of this box; raise room_not_found."""
        return require_room(self.rooms, room_id)

    async def async_play_playlist(
        self,
        playlist_id: str,
        start_track_id: str | None = None,
        shuffle: bool | None = None,
        position: float = 0.0,
        *,
        resume: bool = True,
        player: Player | None = None,
    ) -> None:
        """Play a playlist from the start or from one of its tracks (all ways in come here).

        An audiobook resumes where it stopped unless a start track is given or `resume` is off.
        `player` is a room's player when the playlist plays in a room.
        """
        player = player or self.player
        playlist = self.catalog.require_playlist(playlist_id)
        tracks = self.catalog.tracks_of(playlist)
        if not tracks:
            raise validation_error("empty_playlist", media_id=playlist.id)
        if start_track_id is None and resume:
            start_track_id, position = self.resume.start_point(playlist.id, tracks)
        start = 0
        if start_track_id is not None:
            ids = [track.id for track in tracks]
            if start_track_id not in ids:
                raise validation_error("track_not_in_playlist", track_id=start_track_id)
            start = ids.index(start_track_id)
        await self.async_require_media(tracks[start])  # before anything changes: shuffle, queue
        if shuffle is not None:
            await player.async_set_shuffle(shuffle)
        await player.async_play_tracks(
            tracks, MediaPlayerEnqueue.REPLACE, start, playlist.id, position=position
        )

    @callback
    def set_playlist_mode(self, playlist_id: str, mode: PlaylistMode) -> None:
        """Make a playlist an album or an audiobook (action, WebSocket); clients see it."""
        self.resume.set_mode(playlist_id, mode)
        self.live.publish_playlists()
