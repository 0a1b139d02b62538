"""Children's features: the sleep timer fades out, pauses and restores the volume.

Real HA core, real libmpv (ao=null); the timer's minutes pass with async_fire_time_changed,
never by sleeping.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_VOLUME_LEVEL,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_SET,
    STATE_IDLE,
    STATE_PAUSED,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
import voluptuous as vol

from custom_components.open_music_box.children.sleep_timer import (
    FADE_SECONDS,
    FADE_STEP_SECONDS,
    FADE_STEPS,
    MAX_MINUTES,
)
from custom_components.open_music_box.const import (
    DOMAIN,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.playback.player import PlayState

from .conftest import ENTITY_ID
from .helpers.kids import (
    AUDIOBOOK,
    SENSOR_ID,
    mpv_volume,
    play_media,
    play_state,
    player_call,
    set_mode,
    the_box,
    tick,
    ws,  # noqa: F401 (fixtures)
)
from .helpers.player import state
from .helpers.ws import Client

# Sleep timer --------------------------------------------------------------------------------


async def sleep_timer(hass: HomeAssistant, minutes: Any) -> None:
    """Call the sleep_timer action on the box's media player."""
    await hass.services.async_call(
        DOMAIN, "sleep_timer", {ATTR_ENTITY_ID: ENTITY_ID, "minutes": minutes}, blocking=True
    )
    await hass.async_block_till_done()


def ends_at(entry: MockConfigEntry) -> datetime:
    """Return when the running timer ends."""
    end = the_box(entry).sleep_timer.ends_at
    assert end is not None
    return end


async def start_fade(hass: HomeAssistant, entry: MockConfigEntry) -> datetime:
    """Let time run to the start of the fade (10 s before the end); return the end."""
    end = ends_at(entry)
    await tick(hass, end - timedelta(seconds=FADE_SECONDS))
    return end


async def fade_step(hass: HomeAssistant, steps: int = 1) -> None:
    """Let fade steps (0.5 s each) run, one after the other."""
    for _ in range(steps):
        await tick(hass, dt_util.utcnow() + timedelta(seconds=FADE_STEP_SECONDS))


async def test_sleep_timer_fades_out_pauses_and_restores(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """Ten seconds of falling volume at the output, a pause, then the volume setting back."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    feed = await ws.feed()
    before = dt_util.utcnow()
    await sleep_timer(hass, 1)

    end = ends_at(entry)
    assert end.microsecond == 0
    assert before + timedelta(seconds=59) < end <= dt_util.utcnow() + timedelta(minutes=1)
    assert state(hass, SENSOR_ID).state == end.isoformat()
    assert state(hass, SENSOR_ID).attributes["device_class"] == "timestamp"
    assert state(hass, SENSOR_ID).attributes["friendly_name"] == "Music Box Sleep timer"
    players = await feed.of_type(box.events.seq, "player")
    assert players[-1]["sleep_timer_ends_at"] == end.isoformat()

    # Until 10 s before the end nothing happens.
    await tick(hass, end - timedelta(seconds=FADE_SECONDS + 5))
    assert box.player.volume == 0.5
    await start_fade(hass, entry)
    assert box.sleep_timer.fading
    assert box.player.volume == 0.5  # the first step comes 0.5 s later

    levels: list[float] = []
    for _ in range(FADE_STEPS - 1):
        await fade_step(hass)
        assert play_state(entry) is PlayState.PLAYING
        levels.append(await mpv_volume(hass, entry))
        assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(levels[-1] / 100)
    assert levels == sorted(levels, reverse=True)
    assert len(set(levels)) == FADE_STEPS - 1
    assert levels[0] == pytest.approx(47.5)
    assert levels[-1] == pytest.approx(2.5)

    await fade_step(hass)  # the end
    assert play_state(entry) is PlayState.PAUSED
    assert state(hass).state == STATE_PAUSED
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert box.sleep_timer.ends_at is None
    assert not the_box(entry).sleep_timer.fading
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN
    players = await feed.of_type(box.events.seq, "player")
    assert players[-1]["sleep_timer_ends_at"] is None
    assert players[-1]["volume"] == 0.5

    # Nothing more happens later.
    await tick(hass, end + timedelta(minutes=5))
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5


async def test_cancel_during_the_fade_restores_the_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """0 minutes cancels: the volume comes back at once and the box plays on."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 2)
    end = await start_fade(hass, entry)
    for _ in range(5):
        await fade_step(hass)
    assert await mpv_volume(hass, entry) == pytest.approx(37.5)

    await sleep_timer(hass, 0)
    assert box.sleep_timer.ends_at is None
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN

    await tick(hass, end + timedelta(seconds=1))
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5


async def test_cancel_before_the_fade(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Cancelled early: nothing happens at the old end time; cancelling twice is harmless."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 5)
    end = ends_at(entry)
    await sleep_timer(hass, 0)
    await sleep_timer(hass, 0)
    await tick(hass, end - timedelta(seconds=FADE_SECONDS))
    await tick(hass, end + timedelta(seconds=1))
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN


async def test_a_new_timer_replaces_the_running_one(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Set again (even during the fade): the volume comes back and only the new end counts."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    first = await start_fade(hass, entry)
    await fade_step(hass)
    await fade_step(hass)
    assert box.player.volume < 0.5

    await sleep_timer(hass, 3)
    second = ends_at(entry)
    assert second > first + timedelta(minutes=1)
    assert box.player.volume == 0.5
    assert state(hass, SENSOR_ID).state == second.isoformat()

    await fade_step(hass, FADE_STEPS + 2)  # the old fade does not go on
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5

    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5


async def test_paused_by_hand_the_timer_keeps_running(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A pause by hand does not end the timer: played again, the box still goes to sleep."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await player_call(hass, SERVICE_MEDIA_PAUSE)
    assert box.sleep_timer.ends_at is not None
    await player_call(hass, SERVICE_MEDIA_PLAY)
    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert play_state(entry) is PlayState.PAUSED


async def test_timer_ends_while_paused_or_stopped(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """At the end a paused box stays paused, a stopped one stopped; the volume is as it was."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass)
    await player_call(hass, SERVICE_MEDIA_PAUSE)  # paused by hand during the fade
    await fade_step(hass, FADE_STEPS - 1)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5
    assert box.sleep_timer.ends_at is None

    await player_call(hass, SERVICE_MEDIA_STOP)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert state(hass).state == STATE_IDLE
    assert box.player.volume == 0.5


async def test_volume_changed_during_the_fade_is_the_one_restored(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Someone sets the volume during the fade: the fade goes on from there, and gives it back."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass)
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.3})
    await fade_step(hass)
    assert box.player.volume == pytest.approx(0.3 * (FADE_STEPS - 2) / FADE_STEPS)
    await fade_step(hass, FADE_STEPS - 2)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == pytest.approx(0.3)
    assert await mpv_volume(hass, entry) == 30


async def test_cancel_while_a_step_sets_the_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A cancel that lands while a step waits for the output wins: no further step."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    # Fire the step without waiting: it is now waiting for mpv to take the new volume.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=FADE_STEP_SECONDS))
    await box.sleep_timer.async_cancel()
    await hass.async_block_till_done()
    for _ in range(3):
        await fade_step(hass)
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert play_state(entry) is PlayState.PLAYING


async def test_unload_during_the_fade(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unloading the box ends the timer quietly; nothing runs afterwards."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    end = await start_fade(hass, entry)
    await fade_step(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert box.sleep_timer.ends_at is None
    assert box.player.volume == 0.5
    await tick(hass, end + timedelta(seconds=5))


async def test_sleep_timer_over_the_websocket(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """The WebSocket command starts, restarts and cancels, and answers with the end time."""
    result = await ws.ok("player/sleep_timer", minutes=30)
    assert result["ends_at"] == ends_at(entry).isoformat()
    assert ends_at(entry) > dt_util.utcnow() + timedelta(minutes=29)
    assert the_box(entry).live.player_state()["sleep_timer_ends_at"] == result["ends_at"]
    result = await ws.ok("player/sleep_timer", minutes=0)
    assert result["ends_at"] is None
    assert the_box(entry).live.player_state()["sleep_timer_ends_at"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"minutes": -1},
        {"minutes": MAX_MINUTES + 1},
        {"minutes": 1.5},
        {"minutes": "5"},
        {"minutes": True},
        {"minutes": None},
    ],
)
async def test_sleep_timer_websocket_bad_input(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client, fields: dict[str, Any]
) -> None:
    """Bad minutes get a translated invalid_format error; the connection stays open."""
    error = await ws.error("player/sleep_timer", "invalid_format", **fields)
    assert error["translation_key"] == "invalid_input"
    assert the_box(entry).sleep_timer.ends_at is None
    await ws.works()


@pytest.mark.parametrize("minutes", [-1, MAX_MINUTES + 1, "abc", None])
async def test_sleep_timer_action_bad_input(
    hass: HomeAssistant, entry: MockConfigEntry, minutes: Any
) -> None:
    """Bad minutes are refused by the action's schema."""
    with pytest.raises(vol.Invalid):
        await sleep_timer(hass, minutes)
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "sleep_timer", {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
        )
    assert the_box(entry).sleep_timer.ends_at is None


async def test_longest_timer_is_accepted(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """720 minutes (12 h) is the maximum."""
    await sleep_timer(hass, MAX_MINUTES)
    assert ends_at(entry) > dt_util.utcnow() + timedelta(hours=11, minutes=59)


async def test_diagnostics_show_the_childrens_features(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Diagnostics count audiobooks and points, and show the timer."""
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 10)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["resume"] == {"audiobooks": 1, "resume_points": 1}
    assert diagnostics["sleep_timer"] == {
        "ends_at": ends_at(entry).isoformat(),
        "fading": False,
    }
