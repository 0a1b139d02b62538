"""A room member that is another Home Assistant media player (a cast device, a Sonos, ...).

Such players only take play_media/seek/pause/play, and their position is known to about a
second from their state, so they are corrected by seek only: when off by more than
ENTITY_SEEK_ABOVE_SECONDS, at most once per ENTITY_SEEK_COOLDOWN_SECONDS.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.components.media_player import ATTR_MEDIA_VOLUME_LEVEL
from homeassistant.core import HomeAssistant, callback

from ..models import Track
from ..playback.outputs.base import OutputError, OutputEvent, OutputEventType
from ..playback.outputs.entity import EntityOutput, UrlFor
from .member import Member, MemberNotReady
from .timeline import Timeline, server_time

ENTITY_SEEK_ABOVE_SECONDS = 1.0
ENTITY_SEEK_COOLDOWN_SECONDS = 5.0
ENTITY_START_SLACK_SECONDS = 0.1  # such players take longer than this to start anyway


class EntityMember(Member):
    """Drives a media_player entity through the box's entity output."""

    kind = "entity"
    precise = False

    def __init__(
        self, hass: HomeAssistant, entity_id: str, offset_ms: float, url_for: UrlFor
    ) -> None:
        """Initialize the entity member."""
        super().__init__(f"entity:{entity_id}", entity_id, offset_ms)
        self._hass = hass
        self.entity_id = entity_id
        self.output = EntityOutput(hass, entity_id, url_for)
        self._available = False
        self._track: Track | None = None
        self._playing_track: Track | None = None

    async def async_open(self) -> None:
        """Follow the entity's state (it may appear later)."""
        await self.output.async_start(self._on_event)
        self._available = self.output.available

    @callback
    def _on_event(self, event: OutputEvent) -> None:
        if event.type is OutputEventType.AVAILABLE:
            self._available = bool(event.available)

    def own_volume(self) -> float | None:
        """Return the entity's volume as it joins: the room keeps its difference to the room's."""
        state = self._hass.states.get(self.entity_id)
        level = state.attributes.get(ATTR_MEDIA_VOLUME_LEVEL) if state is not None else None
        return float(level) if isinstance(level, (int, float)) else None

    async def async_close(self) -> None:
        """Stop following the entity."""
        await self.output.async_close()

    @property
    def available(self) -> bool:
        """Return True while the entity exists and is available."""
        return self._available

    async def _call(self, action: Any) -> None:
        try:
            await action
        except OutputError as err:
            raise MemberNotReady(str(err)) from err

    async def async_prepare(self, generation: int, track: Track, position: float) -> None:
        """Nothing to hold: such players cannot wait paused at a position reliably."""
        self.generation = generation
        self._track = track
        if not self._available:
            raise MemberNotReady(f"{self.entity_id} is unavailable")

    async def async_start(self, generation: int, timeline: Timeline) -> None:
        """Play from where the room is now (the state-reported position is coarse anyway)."""
        if generation != self.generation or self._track is None:
            return
        # Not before the room's instant: the other members are silent until then (their
        # lead-in), and this one would stay that much ahead, under the seek threshold.
        if (wait := timeline.server_time - server_time()) > 0:
            await asyncio.sleep(wait)
            if generation != self.generation:
                return
        now = server_time()
        # Just at the instant, the room's own position: no seek for a few ms of lateness.
        late = now - timeline.server_time > ENTITY_START_SLACK_SECONDS
        position = max(0.0, timeline.position_at(now) if late else timeline.position)
        self.last_seek = now
        if self._playing_track != self._track:
            self._playing_track = self._track
            await self._call(self.output.async_load(self._track, position, False, None))
            return
        await self._call(self.output.async_seek(position))
        await self._call(self.output.async_play())

    async def async_pause(self, generation: int, position: float) -> None:
        """Pause the entity."""
        self.generation = generation
        if self._playing_track is not None:
            await self._call(self.output.async_pause())

    async def async_stop(self) -> None:
        """Stop the entity."""
        self.generation += 1
        self._playing_track = None
        await self._call(self.output.async_stop())

    async def async_set_speed(self, speed: float) -> None:
        """Media players have no speed control: seek-only corrections."""

    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Set the entity's volume."""
        await self._call(self.output.async_set_volume(volume))
        await self._call(self.output.async_set_mute(muted))

    def measure(self, now: float) -> tuple[float, float] | None:
        """Return the entity's interpolated position (to about a second)."""
        position = self.output.position_now()
        return None if position is None else (now, position)

    def diagnostics(self) -> dict[str, Any]:
        """Add the entity's state."""
        return {**super().diagnostics(), "output": self.output.diagnostics()}
