"""Play through another Home Assistant media player (for HA OS, where libmpv does not exist).

Only the standard media_player services are available, so there is no gapless hand-over: the
output follows the target's state and starts the prepared next track when the current one ends.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import time
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_POSITION,
    ATTR_MEDIA_POSITION_UPDATED_AT,
    ATTR_MEDIA_SEEK_POSITION,
    ATTR_MEDIA_VOLUME_LEVEL,
    ATTR_MEDIA_VOLUME_MUTED,
    DOMAIN as MP_DOMAIN,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.components.media_player.const import SERVICE_PLAY_MEDIA
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_SEEK,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_MUTE,
    SERVICE_VOLUME_SET,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
import homeassistant.util.dt as dt_util

from ...models import Track
from ...tasks import PartTasks
from .base import OutputError, OutputEvent, OutputEventType, OutputListener

_LOGGER = logging.getLogger(__name__)

# A player may pass through idle while it opens a new URL; that is not the end of the track.
LOAD_GRACE_SECONDS = 2.0
ENDED_STATES = frozenset({MediaPlayerState.IDLE, MediaPlayerState.OFF, MediaPlayerState.ON})

UrlFor = Callable[[Track], str]


class EntityOutput:
    """Drives `entity_id` with play_media/pause/seek/volume and follows its state."""

    def __init__(self, hass: HomeAssistant, entity_id: str, url_for: UrlFor) -> None:
        """Initialize the entity output."""
        self._hass = hass
        self.entity_id = entity_id
        self._url_for = url_for
        self._listener: OutputListener = lambda _event: None
        self._volume: float | None = None
        self._muted: bool | None = None
        self._unsub: Callable[[], None] | None = None
        self._current: Track | None = None
        self._next: Track | None = None
        self._active = False  # we are playing (or holding paused) a track on the target
        self._expect_paused: bool | None = None  # a state we asked for: not reported back
        self._loading_until = 0.0
        self._tasks = PartTasks(hass)
        self._available = False

    # Life cycle -----------------------------------------------------------------

    async def async_start(self, listener: OutputListener) -> None:
        """Follow the target's state; it may appear later (it is then unavailable until it does)."""
        self._listener = listener
        self._available = self._is_available(self._hass.states.get(self.entity_id))
        self._unsub = async_track_state_change_event(
            self._hass, [self.entity_id], self._on_state_change
        )
        if not self._available:
            # log-when-unavailable: INFO once when it goes, once when it is back.
            _LOGGER.info("Target media player %s is not available yet", self.entity_id)
            listener(OutputEvent(OutputEventType.AVAILABLE, available=False))

    async def async_close(self) -> None:
        """Stop following the target."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        await self._tasks.async_close()

    @staticmethod
    def _is_available(state: State | None) -> bool:
        return state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)

    # Target state -----------------------------------------------------------------

    @callback
    def _on_state_change(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        available = self._is_available(new)
        if available != self._available:
            self._available = available
            self._emit(OutputEvent(OutputEventType.AVAILABLE, available=available))
            if available:  # e.g. its integration loaded after ours: it gets the capped volume now
                _LOGGER.info("Target media player %s is available", self.entity_id)
                self._tasks.spawn(self._async_reapply_volume(), "volume")
            else:
                _LOGGER.info("Target media player %s is unavailable", self.entity_id)
        if new is None or not available or not self._active:
            return
        state = new.state
        old = event.data["old_state"]
        moved = old is None or old.state != state
        if state == MediaPlayerState.PLAYING:
            self._loading_until = 0.0
            self._paused_report(paused=False, moved=moved)
        elif state == MediaPlayerState.PAUSED:
            self._paused_report(paused=True, moved=moved)
        elif state in ENDED_STATES and time.monotonic() > self._loading_until:
            self._tasks.spawn(self._async_track_ended(), "track end")

    @callback
    def _paused_report(self, paused: bool, moved: bool) -> None:
        if self._expect_paused is not None:
            # State changes reach us after our calls return: until the target reports what we
            # asked for last, other reports are steps on the way (play_media, then pause).
            if self._expect_paused == paused:
                self._expect_paused = None
                if not paused:
                    self._emit(OutputEvent(OutputEventType.RESTARTED, position=self.position_now()))
            return
        if moved:  # attribute updates (position, volume, title) are neither pause nor resume
            self._emit(OutputEvent(OutputEventType.PAUSE, paused=paused))

    async def _async_reapply_volume(self) -> None:
        try:
            if self._volume is not None:
                await self.async_set_volume(self._volume)
            if self._muted is not None:
                await self.async_set_mute(self._muted)
        except OutputError as err:
            _LOGGER.warning("Cannot set the volume of %s: %s", self.entity_id, err)

    async def _async_track_ended(self) -> None:
        if self._next is None:
            self._active = False
            self._current = None
            self._emit(OutputEvent(OutputEventType.END))
            return
        self._current, self._next = self._next, None
        self._emit(OutputEvent(OutputEventType.ADVANCED))
        try:
            await self._async_play_url(self._current, 0.0, paused=False)
        except OutputError as err:
            # Nobody awaits this task: stop rather than claim to play a track that never started.
            _LOGGER.error("Cannot start the next track: %s", err)
            self._active = False
            self._current = None
            self._emit(OutputEvent(OutputEventType.END))

    @callback
    def _emit(self, event: OutputEvent) -> None:
        self._listener(event)

    @property
    def available(self) -> bool:
        """Return True while the target exists and is available."""
        return self._available

    def position_now(self) -> float | None:
        """Return the target's position now, interpolated from its state like the frontend does."""
        state = self._hass.states.get(self.entity_id)
        if state is None or (position := state.attributes.get(ATTR_MEDIA_POSITION)) is None:
            return None
        position = float(position)
        updated = state.attributes.get(ATTR_MEDIA_POSITION_UPDATED_AT)
        if state.state == MediaPlayerState.PLAYING and updated is not None:
            position += (dt_util.utcnow() - updated).total_seconds()
        return position

    # Commands -----------------------------------------------------------------

    async def _call(self, service: str, **data: Any) -> None:
        try:
            await self._hass.services.async_call(
                MP_DOMAIN, service, {ATTR_ENTITY_ID: self.entity_id, **data}, blocking=True
            )
        except HomeAssistantError as err:
            self._expect_paused = None  # a failed call brings no state change to wait for
            raise OutputError(f"{self.entity_id}: {err}") from err

    def _supports(self, feature: MediaPlayerEntityFeature) -> bool:
        state = self._hass.states.get(self.entity_id)
        features = state.attributes.get(ATTR_SUPPORTED_FEATURES, 0) if state else 0
        return bool(features & feature)

    async def _async_play_url(self, track: Track, position: float, paused: bool) -> None:
        self._loading_until = time.monotonic() + LOAD_GRACE_SECONDS
        self._expect_paused = False
        await self._call(
            SERVICE_PLAY_MEDIA,
            **{
                ATTR_MEDIA_CONTENT_ID: self._url_for(track),
                ATTR_MEDIA_CONTENT_TYPE: MediaType.MUSIC,
            },
        )
        if position > 0:
            await self._call(SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: position})
        if paused:
            await self.async_pause()

    async def async_load(
        self, track: Track, position: float, paused: bool, next_track: Track | None
    ) -> None:
        """Start `track` on the target."""
        self._current, self._next, self._active = track, next_track, True
        await self._async_play_url(track, position, paused)

    async def async_set_next(self, track: Track | None) -> None:
        """Remember what to start when the target finishes the current track."""
        self._next = track

    async def async_play(self) -> None:
        """Resume the target."""
        self._expect_paused = False
        await self._call(SERVICE_MEDIA_PLAY)

    async def async_pause(self) -> None:
        """Pause the target."""
        self._expect_paused = True
        await self._call(SERVICE_MEDIA_PAUSE)

    async def async_stop(self) -> None:
        """Stop the target; its idle state is then ours, not an end of track."""
        was_active, self._active = self._active, False
        self._current = self._next = None
        if was_active:
            await self._call(SERVICE_MEDIA_STOP)

    async def async_seek(self, position: float) -> None:
        """Seek the target."""
        await self._call(SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: position})

    async def async_set_volume(self, level: float) -> None:
        """Set the target's volume (kept for when it comes back; skipped without control)."""
        self._volume = level
        if self._available and self._supports(MediaPlayerEntityFeature.VOLUME_SET):
            await self._call(SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: level})

    async def async_set_mute(self, muted: bool) -> None:
        """Mute the target (kept for later while it is unavailable; skipped if it cannot mute)."""
        self._muted = muted
        if self._available and self._supports(MediaPlayerEntityFeature.VOLUME_MUTE):
            await self._call(SERVICE_VOLUME_MUTE, **{ATTR_MEDIA_VOLUME_MUTED: muted})

    async def async_get_position(self) -> float | None:
        """Return the target's position, interpolated like the frontend does."""
        return self.position_now()

    def diagnostics(self) -> dict[str, Any]:
        """Describe the output."""
        state = self._hass.states.get(self.entity_id)
        return {
            "type": "entity",
            "target_entity": self.entity_id,
            "target_state": state.state if state else None,
            "active": self._active,
        }
