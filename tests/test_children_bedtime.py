"""Bedtime: only bedtime playlists from tags, the night maximum, a sleep timer with every play;
the switch, the schedule (start and end times) and their events. Real HA core, real libmpv; the
clock moves with the freezer and async_fire_time_changed."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.open_music_box.children.const import (
    CONF_BEDTIME_MAX_VOLUME,
    CONF_BEDTIME_SCHEDULE,
    CONF_BEDTIME_SLEEP_MINUTES,
    EVENT_BEDTIME,
    EVENT_TAG_REFUSED,
)
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState

from .children_helpers import action, add_box, box_of, link, scan
from .helpers.kids import non_admin

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
SWITCH = "switch.music_box_bedtime"
STORY_TAG, SONGS_TAG = "04-STORY", "04-SONGS"


async def switch(hass: HomeAssistant, on: bool, **kwargs: object) -> None:
    """Turn the bedtime switch on or off."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True, **kwargs
    )
    await hass.async_block_till_done()


@pytest.fixture
async def box_entry_at_night(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """A box: night maximum 30 %, 20 min of sleep timer, the story is a bedtime playlist."""
    entry = await add_box(
        hass,
        library,
        "Music Box",
        **{CONF_BEDTIME_MAX_VOLUME: 30, CONF_BEDTIME_SLEEP_MINUTES: 20, "default_volume": 60},
    )
    await link(hass, entry, STORY_TAG, AUDIOBOOK)
    await link(hass, entry, SONGS_TAG, ANIMALS)
    response = await action(
        hass, entry, "set_bedtime_playlist", playlist_id=AUDIOBOOK, bedtime=True
    )
    assert response == {"bedtime_playlists": [AUDIOBOOK]}
    return entry


async def test_bedtime_switch(hass: HomeAssistant, box_entry_at_night: MockConfigEntry) -> None:
    """On: lower maximum, other playlists refused, a sleep timer with every play; off: back."""
    box = box_of(box_entry_at_night)
    events = async_capture_events(hass, EVENT_BEDTIME)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    assert box.player.volume == pytest.approx(0.6)

    await switch(hass, True)
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert [(e.data["active"], e.data["source"]) for e in events] == [(True, "switch")]
    assert box.player.volume == pytest.approx(0.3)  # the night maximum, at once
    await box.player.async_set_volume(0.9)
    assert box.player.volume == pytest.approx(0.3)

    await scan(hass, SONGS_TAG, None)
    assert box.player.state is PlayState.IDLE
    assert [e.data["reason"] for e in refused] == ["bedtime"]

    before = dt_util.utcnow()
    await scan(hass, STORY_TAG, None)
    assert box.player.state is PlayState.PLAYING
    assert box.sleep_timer.ends_at is not None
    assert box.sleep_timer.ends_at >= before + timedelta(minutes=19)

    # A child cannot end bedtime; a parent (or an automation) can.
    with pytest.raises(HomeAssistantError):
        await switch(hass, False, context=non_admin(hass))
    await switch(hass, False)
    assert [e.data["active"] for e in events] == [True, False]
    await box.player.async_set_volume(0.9)
    assert box.player.volume == pytest.approx(0.9)
    await box.player.async_stop()
    await scan(hass, SONGS_TAG, None)
    assert box.player.state is PlayState.PLAYING


async def test_bedtime_by_the_clock(
    hass: HomeAssistant, box_entry_at_night: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With the schedule on, bedtime starts at its start time and the morning ends it; a
    parent's switch holds until the next change."""
    entry = box_entry_at_night
    box = box_of(entry)
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=18))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: "time.music_box_bedtime_start", "time": time(19, 30)},
        blocking=True,
    )
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_BEDTIME_SCHEDULE: True}
    )
    await hass.async_block_till_done()
    assert hass.states.get("time.music_box_bedtime_end").state == "07:00:00"  # type: ignore[union-attr]
    events = async_capture_events(hass, EVENT_BEDTIME)

    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=19, minutes=30, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert box.bedtime.active
    assert [(e.data["active"], e.data["source"]) for e in events] == [(True, "schedule")]

    # A parent ends it early: it stays off until the next change (tomorrow evening).
    await switch(hass, False)
    freezer.move_to(dt_util.start_of_local_day() + timedelta(days=1, hours=7, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not box.bedtime.active
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=19, minutes=30, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert box.bedtime.active

    # The morning ends it.
    freezer.move_to(dt_util.start_of_local_day() + timedelta(days=1, hours=7, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not box.bedtime.active
    assert [e.data["active"] for e in events][-1] is False


async def test_bedtime_survives_a_restart(
    hass: HomeAssistant, box_entry_at_night: MockConfigEntry
) -> None:
    """Bedtime turned on by a parent is still on after a reload, the night maximum too."""
    await switch(hass, True)
    assert await hass.config_entries.async_reload(box_entry_at_night.entry_id)
    await hass.async_block_till_done()
    box = box_of(box_entry_at_night)
    assert box.bedtime.active
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert box.player.volume == pytest.approx(0.3)
