"""Children's features: the volume cap on every path, and its number entity.

Real HA core, real libmpv (ao=null).
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from pathlib import Path

from homeassistant.components.media_player import (
    ATTR_MEDIA_VOLUME_LEVEL,
)
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_VOLUME_DOWN,
    SERVICE_VOLUME_SET,
    SERVICE_VOLUME_UP,
    EntityCategory,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import (
    CONF_DEFAULT_VOLUME,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_TARGET_ENTITY,
    DOMAIN,
    OUTPUT_ENTITY,
)
from custom_components.open_music_box.playback.player import PlayState

from .conftest import ENTITY_ID, box_entry
from .helpers.kids import (
    ANIMALS,
    AUDIOBOOK,
    NUMBER_ID,
    capped,  # noqa: F401 (fixtures)
    mpv_volume,
    non_admin,
    play_media,
    play_state,
    player_call,
    set_up,
    the_box,
)
from .helpers.player import state
from .helpers.ws import Client
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform

# Max volume: every path ------------------------------------------------------------------------


async def test_volume_set_is_capped(hass: HomeAssistant, capped: MockConfigEntry) -> None:
    """volume_set above the cap plays at the cap; below it as asked."""
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4  # default 50 % capped
    assert await mpv_volume(hass, capped) == 40

    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4
    assert await mpv_volume(hass, capped) == 40

    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.25})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.25
    assert await mpv_volume(hass, capped) == 25


async def test_volume_steps_are_capped(hass: HomeAssistant, capped: MockConfigEntry) -> None:
    """volume_up stops at the cap, however often it is pressed; volume_down still works."""
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.3})
    for _ in range(4):
        await player_call(hass, SERVICE_VOLUME_UP)
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4
    assert await mpv_volume(hass, capped) == 40
    await player_call(hass, SERVICE_VOLUME_DOWN)
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.35)


async def test_websocket_volume_is_capped(
    hass: HomeAssistant, capped: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The WebSocket volume command is capped too, and clients see the cap."""
    client = Client(await hass_ws_client(hass), capped.entry_id)
    await client.ok("player/volume", volume=1.0)
    assert the_box(capped).player.volume == 0.4
    assert await mpv_volume(hass, capped) == 40
    assert the_box(capped).live.player_state()["max_volume"] == 0.4


async def test_entity_output_receives_the_capped_volume(hass: HomeAssistant, library: Path) -> None:
    """Through another media player, the target only ever gets capped volumes."""
    add = await async_setup_target_platform(hass)
    speaker = TargetPlayer()
    add([speaker])
    await hass.async_block_till_done()
    entry = await set_up(
        hass,
        box_entry(
            library,
            {CONF_OUTPUT: OUTPUT_ENTITY, CONF_TARGET_ENTITY: TARGET_ID},
            **{CONF_MAX_VOLUME: 60},
        ),
        library,
    )
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    await player_call(hass, SERVICE_VOLUME_UP)
    await the_box(entry).async_play_playlist(ANIMALS)
    await hass.async_block_till_done()

    volumes = [call.data["volume"] for call in speaker.services("volume_set")]
    assert volumes
    assert max(volumes) == 0.6
    assert state(hass, TARGET_ID).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.6
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_playlist_started_like_a_tag_stays_capped(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A playlist started the way tags and voice start one plays at the (lowered) cap."""
    box = the_box(entry)
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.9})
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 30}, blocking=True
    )
    await hass.async_block_till_done()

    await box.async_play_playlist(ANIMALS)
    await hass.async_block_till_done()
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.3
    assert await mpv_volume(hass, entry) == 30


# Max volume: the number entity ---------------------------------------------------------------


async def test_max_volume_number_entity(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A 0-100 % config slider on the box's device, with a translated name."""
    number = state(hass, NUMBER_ID)
    assert number.state == "100.0"
    assert number.attributes["friendly_name"] == "Music Box Max volume"
    assert number.attributes["min"] == 0
    assert number.attributes["max"] == 100
    assert number.attributes["step"] == 1
    assert number.attributes["mode"] == "slider"
    assert number.attributes["unit_of_measurement"] == "%"

    registry = er.async_get(hass)
    registered = registry.async_get(NUMBER_ID)
    assert registered is not None
    assert registered.unique_id == f"{entry.entry_id}_max_volume"
    assert registered.entity_category is EntityCategory.CONFIG
    assert registered.translation_key == "max_volume"
    player = registry.async_get(ENTITY_ID)
    assert player is not None
    assert registered.device_id == player.device_id
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert (DOMAIN, entry.entry_id) in device.identifiers


async def test_admin_sets_the_max_volume(
    hass: HomeAssistant, entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """The number changes the options; the running box applies them at once (no reload)."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    player_before = box.player
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.8})

    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 30},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()

    assert entry.options[CONF_MAX_VOLUME] == 30
    assert entry.options[CONF_DEFAULT_VOLUME] == 30  # kept at or below the maximum
    assert state(hass, NUMBER_ID).state == "30.0"
    assert box.player is player_before  # applied live
    assert play_state(entry) is PlayState.PLAYING
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.3
    assert await mpv_volume(hass, entry) == 30
    assert box.live.player_state()["max_volume"] == 0.3

    # Raising the cap does not raise the volume, but clients see the new cap.
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 70}, blocking=True
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MAX_VOLUME] == 70
    assert entry.options[CONF_DEFAULT_VOLUME] == 30
    assert box.player.volume == 0.3
    assert box.live.player_state()["max_volume"] == 0.7


async def test_options_flow_change_shows_on_the_number(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A cap changed elsewhere (options flow) is what the number shows."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_MAX_VOLUME: 45})
    await hass.async_block_till_done()
    assert state(hass, NUMBER_ID).state == "45.0"
    assert the_box(entry).player.volume == 0.45


async def test_non_admin_cannot_change_the_max_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A regular user may use the box but not raise its cap: a translated error, no change."""
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 20},
            blocking=True,
            context=non_admin(hass),
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "max_volume_admin_only"
    assert str(err.value).startswith("Only an administrator can change the maximum volume")
    assert entry.options[CONF_MAX_VOLUME] == 100
    assert state(hass, NUMBER_ID).state == "100.0"


@pytest.mark.parametrize("value", [-1, 101, 1000])
async def test_max_volume_out_of_range(
    hass: HomeAssistant, entry: MockConfigEntry, value: int
) -> None:
    """Values outside 0-100 are refused before they reach the box."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: value},
            blocking=True,
        )
    assert entry.options[CONF_MAX_VOLUME] == 100


async def test_max_volume_zero_silences(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """0 % is allowed: the box is silent whatever volume is asked for."""
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 0}, blocking=True
    )
    await hass.async_block_till_done()
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0
    assert await mpv_volume(hass, entry) == 0
