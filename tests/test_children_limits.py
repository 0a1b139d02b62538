"""Minimum volume, the daily listening limit and the lock. Real HA core, real libmpv; the minutes
pass with the freezer and async_fire_time_changed, never by sleeping."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.media_player import (
    ATTR_MEDIA_SHUFFLE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_SHUFFLE_SET,
)
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_MEDIA_PAUSE, SERVICE_VOLUME_SET
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box import logbook
from custom_components.open_music_box.children.const import (
    CONF_DAILY_LIMIT,
    CONF_LOCK,
    CONF_MIN_VOLUME,
    EVENT_LIMIT_REACHED,
    EVENT_TAG_REFUSED,
)
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState

from .children_helpers import action, add_box, box_of, link, scan, set_options
from .conftest import ENTITY_ID
from .helpers.kids import non_admin

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
TAG = "04-AA-BB-CC"
LISTENED = "sensor.music_box_listened_today"


async def minutes_pass(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float) -> None:
    """Move the clock on, and let the timers due by then run."""
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def listened(hass: HomeAssistant) -> float:
    """Return the "listened today" sensor's minutes."""
    state = hass.states.get(LISTENED)
    assert state is not None
    return float(state.state)


# Minimum volume ---------------------------------------------------------------------------------


async def test_minimum_volume_is_a_floor(hass: HomeAssistant, library: Path) -> None:
    """Below the floor a volume request gives the floor; the number entity shows and sets it."""
    entry = await add_box(hass, library, "Music Box", **{CONF_MIN_VOLUME: 20})
    player = box_of(entry).player
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_MEDIA_VOLUME_LEVEL: 0.05},
        blocking=True,
    )
    assert player.volume == pytest.approx(0.2)
    assert float(hass.states.get("number.music_box_min_volume").state) == 20  # type: ignore[union-attr]

    # A higher floor lifts the volume at once.
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.music_box_min_volume", "value": 30},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MIN_VOLUME] == 30
    assert player.volume == pytest.approx(0.3)

    # Not above the maximum, and not for a child.
    await set_options(hass, entry, max_volume=60)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: "number.music_box_min_volume", "value": 70},
            blocking=True,
        )
    assert err.value.translation_key == "min_volume_above_max"
    with pytest.raises(HomeAssistantError) as denied:
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: "number.music_box_min_volume", "value": 10},
            blocking=True,
            context=non_admin(hass),
        )
    assert denied.value.translation_key == "admin_only"


async def test_options_flow_refuses_a_floor_above_the_maximum(
    hass: HomeAssistant, library: Path
) -> None:
    """The options form says so, on the floor's field."""
    entry = await add_box(hass, library, "Music Box")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"max_volume": 40, "default_volume": 30, CONF_MIN_VOLUME: 50}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MIN_VOLUME: "min_volume_above_max"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"max_volume": 40, "default_volume": 30, CONF_MIN_VOLUME: 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the update listener applies the new floor
    assert entry.options[CONF_MIN_VOLUME] == 10
    assert box_of(entry).player.volume == pytest.approx(0.4)  # lowered to the new maximum


# Daily limit -------------------------------------------------------------------------------------


@pytest.fixture
async def limited(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """A box allowed 30 minutes a day, with TAG linked to the audiobook."""
    entry = await add_box(hass, library, "Music Box", **{CONF_DAILY_LIMIT: 30})
    await link(hass, entry, TAG, AUDIOBOOK)
    return entry


async def test_daily_limit_pauses_refuses_and_grants(
    hass: HomeAssistant, limited: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """30 minutes of play, then a pause and refused tags, until a parent grants more."""
    box = box_of(limited)
    reached = async_capture_events(hass, EVENT_LIMIT_REACHED)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    await scan(hass, TAG, None)
    assert box.player.state is PlayState.PLAYING

    await minutes_pass(hass, freezer, 10)
    assert listened(hass) == pytest.approx(10, abs=0.2)
    # A pause does not count.
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_PAUSE, {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
    )
    await minutes_pass(hass, freezer, 60)
    assert listened(hass) == pytest.approx(10, abs=0.2)
    await box.player.async_play()
    await minutes_pass(hass, freezer, 20.1)

    assert box.player.state is PlayState.PAUSED
    assert len(reached) == 1
    assert reached[0].data["entry_id"] == limited.entry_id
    assert reached[0].data["minutes"] == 30
    assert "30" in reached[0].data["message"]
    assert listened(hass) == pytest.approx(30, abs=0.2)
    assert hass.states.get(LISTENED).attributes["reached"] is True  # type: ignore[union-attr]

    # Tags are refused, with an event automations (and the log book) use.
    await scan(hass, TAG, None)
    assert box.player.state is PlayState.PAUSED
    assert [event.data["reason"] for event in refused] == ["daily_limit"]
    assert refused[0].data["playlist_id"] == AUDIOBOOK
    described: dict[str, Any] = {}
    logbook.async_describe_events(
        hass, lambda _d, kind, describer: described.update({kind: describer})
    )
    assert described[EVENT_LIMIT_REACHED](reached[0]) == {
        "name": "Music Box",
        "message": "daily listening limit of 30 minutes reached; Music Box paused",
    }
    assert described[EVENT_TAG_REFUSED](refused[0]) == {
        "name": "Music Box",
        "message": "tag refused: the daily listening limit of Music Box is reached",
    }
    # Whatever starts it again is paused again.
    await box.player.async_play()
    await hass.async_block_till_done()
    assert box.player.state is PlayState.PAUSED

    # A child cannot grant minutes; a parent can.
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "grant_extra_minutes",
            {"config_entry_id": limited.entry_id, "minutes": 15},
            blocking=True,
            context=non_admin(hass),
        )
    response = await action(hass, limited, "grant_extra_minutes", minutes=15)
    assert response["reached"] is False
    assert response["extra_minutes"] == 15
    await scan(hass, TAG, None)
    assert box.player.state is PlayState.PLAYING
    await minutes_pass(hass, freezer, 15.1)
    assert box.player.state is PlayState.PAUSED
    assert len(reached) == 2


async def test_daily_limit_resets_at_midnight(
    hass: HomeAssistant, limited: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At local midnight the count starts again from 0 and tags play again."""
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    box = box_of(limited)
    await scan(hass, TAG, None)
    await minutes_pass(hass, freezer, 31)
    assert box.daily_limit.reached

    freezer.move_to(dt_util.start_of_local_day() + timedelta(days=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert listened(hass) == 0
    assert not box.daily_limit.reached
    await scan(hass, TAG, None)
    assert box.player.state is PlayState.PLAYING


async def test_listened_today_survives_a_restart(
    hass: HomeAssistant,
    limited: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The minutes are stored: a reload keeps today's count (and a reached limit)."""
    await scan(hass, TAG, None)
    await minutes_pass(hass, freezer, 12)
    assert await hass.config_entries.async_reload(limited.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[f"{DOMAIN}.{limited.entry_id}"]["data"]["daily_limit"]["seconds"] > 700
    assert listened(hass) == pytest.approx(12, abs=0.2)
    box = box_of(limited)
    await box.player.async_play()  # the queue came back paused: play it on
    await scan(hass, TAG, None)
    await minutes_pass(hass, freezer, 18.1)
    assert box.daily_limit.reached


# Lock --------------------------------------------------------------------------------------------


async def test_lock_limits_non_admins_only(
    hass: HomeAssistant,
    library: Path,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """A locked box: a child may pause but not start another playlist or shuffle; a parent may."""
    entry = await add_box(hass, library, "Music Box", **{CONF_LOCK: True})
    box = box_of(entry)
    assert hass.states.get("switch.music_box_lock").state == "on"  # type: ignore[union-attr]
    child = non_admin(hass)
    ws = await hass_ws_client(hass, hass_read_only_access_token)

    await ws.send_json_auto_id(
        {
            "type": f"{DOMAIN}/player/play_playlist",
            "entry_id": entry.entry_id,
            "playlist_id": ANIMALS,
        }
    )
    msg = await ws.receive_json()
    assert not msg["success"]
    assert "locked" in msg["error"]["message"]
    assert box.player.state is PlayState.IDLE

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            MP_DOMAIN,
            SERVICE_SHUFFLE_SET,
            {ATTR_ENTITY_ID: ENTITY_ID, ATTR_MEDIA_SHUFFLE: True},
            blocking=True,
            context=child,
        )
    assert err.value.translation_key == "box_locked"

    await box.async_play_playlist(ANIMALS)  # a parent (or an automation)
    await ws.send_json_auto_id({"type": f"{DOMAIN}/player/pause", "entry_id": entry.entry_id})
    assert (await ws.receive_json())["success"]
    assert box.player.state is PlayState.PAUSED

    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_SHUFFLE_SET,
        {ATTR_ENTITY_ID: ENTITY_ID, ATTR_MEDIA_SHUFFLE: True},
        blocking=True,
    )
    assert box.player.shuffle
