"""A real media_player entity for the entity-output tests.

It behaves like a simple network speaker (play_media starts playing, pause pauses, ...), records
every service call it receives, and lets the test change its state as its own user or its own
integration would: paused from its remote, finished its track, gone unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import MockPlatform, mock_platform

TARGET_ID = "media_player.speaker"

FULL_FEATURES = (
    MediaPlayerEntityFeature.PLAY
    | MediaPlayerEntityFeature.PAUSE
    | MediaPlayerEntityFeature.STOP
    | MediaPlayerEntityFeature.SEEK
    | MediaPlayerEntityFeature.VOLUME_SET
    | MediaPlayerEntityFeature.VOLUME_MUTE
    | MediaPlayerEntityFeature.PLAY_MEDIA
)


@dataclass(frozen=True, slots=True)
class Call:
    """One service call the target received."""

    service: str
    data: dict[str, Any] = field(default_factory=dict)


class TargetPlayer(MediaPlayerEntity):
    """A speaker of another integration that the music box plays through."""

    _attr_should_poll = False
    _attr_name = "Speaker"
    _attr_unique_id = "test_speaker"
    _attr_state = MediaPlayerState.IDLE
    _attr_volume_level = 1.0
    _attr_is_volume_muted = False

    def __init__(self, features: MediaPlayerEntityFeature = FULL_FEATURES) -> None:
        self._attr_supported_features = features
        self.calls: list[Call] = []
        self.fail = False  # every service raises HomeAssistantError, like an unreachable device
        self.blip_on_load = False  # pass through idle while opening a URL, as many players do
        self.reports_position = True

    # What the test sees -----------------------------------------------------------------

    def services(self, *names: str) -> list[Call]:
        """Return the calls of the given services (all calls when no name is given)."""
        return [c for c in self.calls if not names or c.service in names]

    @property
    def urls(self) -> list[str]:
        """Return the URLs received by play_media, in order."""
        return [c.data["media_id"] for c in self.services("play_media")]

    # What the test does -----------------------------------------------------------------

    def set_state(self, state: MediaPlayerState) -> None:
        """Change the state as the speaker's own controls or its end of track would."""
        self._attr_state = state
        self.async_write_ha_state()

    def set_position(self, position: float) -> None:
        """Report progress, as players that poll their device do."""
        self._set_position(position)
        self.async_write_ha_state()

    def set_volume(self, volume: float) -> None:
        """Change the volume with the speaker's own knob."""
        self._attr_volume_level = volume
        self.async_write_ha_state()

    def set_available(self, available: bool) -> None:
        """Go unavailable (device unreachable) or come back."""
        self._attr_available = available
        self.async_write_ha_state()

    # Services -----------------------------------------------------------------

    def _record(self, service: str, **data: Any) -> None:
        self.calls.append(Call(service, data))
        if self.fail:
            raise HomeAssistantError(f"{service} refused by the speaker")

    def _set_position(self, position: float) -> None:
        if self.reports_position:
            self._attr_media_position = int(position)
            self._attr_media_position_updated_at = dt_util.utcnow()

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Start playing a URL."""
        self._record("play_media", media_type=media_type, media_id=media_id)
        if self.blip_on_load:
            self.set_state(MediaPlayerState.IDLE)
        self._attr_media_content_id = media_id
        self._set_position(0)
        self.set_state(MediaPlayerState.PLAYING)

    async def async_media_play(self) -> None:
        """Resume."""
        self._record("media_play")
        self._set_position(self._attr_media_position or 0)
        self.set_state(MediaPlayerState.PLAYING)

    async def async_media_pause(self) -> None:
        """Pause."""
        self._record("media_pause")
        self.set_state(MediaPlayerState.PAUSED)

    async def async_media_stop(self) -> None:
        """Stop."""
        self._record("media_stop")
        self.set_state(MediaPlayerState.IDLE)

    async def async_media_seek(self, position: float) -> None:
        """Seek."""
        self._record("media_seek", position=position)
        self._set_position(position)
        self.async_write_ha_state()

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the volume."""
        self._record("volume_set", volume=volume)
        self._attr_volume_level = volume
        self.async_write_ha_state()

    async def async_mute_volume(self, mute: bool) -> None:
        """Mute."""
        self._record("volume_mute", mute=mute)
        self._attr_is_volume_muted = mute
        self.async_write_ha_state()


async def async_setup_target_platform(hass: HomeAssistant) -> AddEntitiesCallback:
    """Set up media_player with a test platform; return its add-entities callback.

    The callback lets a test add the speaker at any time (e.g. after the music box started,
    as when the speaker's integration loads later than ours).
    """
    added: list[AddEntitiesCallback] = []

    async def _async_setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        async_add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        added.append(async_add_entities)

    mock_platform(
        hass, "test.media_player", MockPlatform(async_setup_platform=_async_setup_platform)
    )
    assert await async_setup_component(hass, "media_player", {"media_player": {"platform": "test"}})
    await hass.async_block_till_done()
    return added[0]
