"""The live state of the box's player and catalog, published to the event log.

The player and the catalog stay the one source of truth (the entity reads them too); this part
watches them, publishes each change (queue, player, library, playlists, positions) and puts the
player's transitions on the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from ..catalog import Catalog, CatalogChange, ChangeKind
from ..const import DOMAIN
from ..playback.player import Player, PlayState
from .log import EventLog
from .positions import PositionStream
from .state import player_dict, playlist_summary, queue_ids, track_dict

EVENT_TRACK_STARTED = f"{DOMAIN}_track_started"
EVENT_PLAYBACK_STATE = f"{DOMAIN}_playback_state"
EVENT_PLAYLIST_FINISHED = f"{DOMAIN}_playlist_finished"

type AddListener = Callable[[Callable[[], None]], CALLBACK_TYPE]


class LiveState:
    """The box's player, queue, playlists and positions as events; its part of the snapshot."""

    def __init__(
        self,
        hass: HomeAssistant,
        log: EventLog,
        player: Player,
        catalog: Catalog,
        *,
        mode: Callable[[str], str],
        sleep_ends_at: Callable[[], datetime | None],
    ) -> None:
        """Initialize the live state."""
        self._log = log
        self._player = player
        self._catalog = catalog
        self._mode = mode
        self._sleep_ends_at = sleep_ends_at
        self._last_player: dict[str, Any] | None = None
        self._last_queue: list[str] = []
        self._announced_start = 0  # the player's track_starts last announced on the bus
        self._last_state: PlayState | None = None
        self.positions = PositionStream(
            hass.loop,
            self._publish_position,
            lambda: log.subscriber_count > 0,
            lambda: player.state is PlayState.PLAYING,
        )
        self._unsubs: list[CALLBACK_TYPE] = []
        log.add_snapshot_part("player", self.player_state)
        log.add_snapshot_part("queue", lambda: queue_ids(player))
        log.add_snapshot_part("playlists", self.playlists_index)

    @callback
    def async_start(self, *also_watch: AddListener) -> None:
        """Follow the player and catalog (and what else shows in the player's state)."""
        player = self._player
        self._last_player = self.player_state()
        self._last_queue = queue_ids(player)
        self._announced_start = player.track_starts
        self._last_state = player.state
        self._unsubs += [
            player.async_add_listener(self._on_player),
            player.async_add_finished_listener(self._on_finished),
            self._catalog.async_add_change_listener(self._on_catalog),
            self._log.async_add_subscribers_listener(self.positions.sync),
            *(add(self._on_player) for add in also_watch),
        ]

    @callback
    def async_stop(self) -> None:
        """Stop listening and streaming (the box is unloaded)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.positions.stop()

    # State -----------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Return True when the box can play (output works and library folder present)."""
        return self._player.available and self._catalog.available

    def player_state(self) -> dict[str, Any]:
        """Return the player's state as clients see it."""
        ends_at = self._sleep_ends_at()
        return {
            "available": self.available,
            **player_dict(self._player),
            "sleep_timer_ends_at": None if ends_at is None else ends_at.isoformat(),
        }

    def playlists_index(self) -> list[dict[str, Any]]:
        """Return every playlist without its tracks."""
        return [self.summary(p) for p in self._catalog.playlists()]

    def summary(self, playlist: Any) -> dict[str, Any]:
        """Describe one playlist without its tracks, with its mode (album or audiobook)."""
        return playlist_summary(playlist, self._mode(playlist.id))

    @callback
    def publish_playlists(self) -> None:
        """Publish the playlists index (a playlist's mode changed)."""
        self._log.publish("playlists", {"playlists": self.playlists_index()})

    def _position_data(self) -> dict[str, Any]:
        player = self._player
        track = player.current if player.state is not PlayState.IDLE else None
        duration = track.duration if track is not None else None
        return {
            "position_ms": round(player.current_position() * 1000) if track else 0,
            "duration_ms": None if duration is None else round(duration * 1000),
            "track_id": None if track is None else track.id,
            "playing": player.state is PlayState.PLAYING,
        }

    # Watching the player -----------------------------------------------------------------

    @callback
    def _on_player(self) -> None:
        # The queue (up to thousands of ids) goes out only when it changes, ahead of the state
        # whose queue_position points into it: not with every volume step, kept 1000 times.
        queue = queue_ids(self._player)
        if queue != self._last_queue:
            self._last_queue = queue
            self._log.publish("queue", {"queue": queue})
        state = self.player_state()
        if state == self._last_player:
            return
        previous = self._last_player or {}
        self._last_player = state
        self._log.publish("player", state)
        moved = (
            state["state"] != previous.get("state")
            or state["position_updated_at"] != previous.get("position_updated_at")
            or state["track"] != previous.get("track")
        )
        self._bus_transitions()
        if moved and self._log.subscriber_count:
            self.positions.request()
        self.positions.sync()

    @callback
    def _bus_transitions(self) -> None:
        player = self._player
        # Counted per start, so a repeated track (repeat one) is announced again; a track loaded
        # paused is announced when it starts playing.
        if (
            player.state is PlayState.PLAYING
            and player.track_starts != self._announced_start
            and player.current is not None
        ):
            self._announced_start = player.track_starts
            self._log.fire(
                EVENT_TRACK_STARTED,
                {**track_dict(player.current), "playlist_id": player.playlist_id},
            )
        if player.state is not self._last_state:
            self._last_state = player.state
            self._log.fire(EVENT_PLAYBACK_STATE, {"state": player.state.value})

    @callback
    def _on_finished(self, playlist_id: str | None) -> None:
        self._log.fire(EVENT_PLAYLIST_FINISHED, {"playlist_id": playlist_id})

    # Watching the catalog -----------------------------------------------------------------

    @callback
    def _on_catalog(self, change: CatalogChange) -> None:
        catalog = self._catalog
        if change.kind is ChangeKind.LIBRARY:
            scan = catalog.scan
            self._log.publish(
                "library",
                {
                    "available": catalog.available,
                    "tracks": len(scan.tracks),
                    "playlists": len(catalog.playlists()),
                    "skipped": len(scan.skipped),
                },
            )
            self.publish_playlists()
            self._on_player()  # availability may have changed
        elif change.kind is ChangeKind.PLAYLISTS:
            self.publish_playlists()
        else:
            for playlist_id in change.playlist_ids:
                self._publish_playlist(playlist_id)

    @callback
    def _publish_playlist(self, playlist_id: str) -> None:
        playlist = self._catalog.playlist(playlist_id)
        if playlist is None:
            return
        self._log.publish(
            "playlist",
            {**self.summary(playlist), "track_ids": list(playlist.track_ids)},
            playlist_seq=self._catalog.playlist_seq(playlist_id),
        )

    @callback
    def _publish_position(self) -> None:
        self._log.publish("position", self._position_data())
