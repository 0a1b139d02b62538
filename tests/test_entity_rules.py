"""Quality-scale rules the media players keep: no polling, a device class, availability logs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
from pathlib import Path
import sys
from typing import Any

from homeassistant.components.media_player import MediaPlayerDeviceClass
from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.open_music_box.playback.output_recovery import RECOVERY_DELAY_SECONDS

from .conftest import ENTITY_ID
from .helpers.player import state, wait_for
from .helpers.rooms import ROOM_ENTITY, room_subentry, setup_room_entry, sync_library

RECOVERY_LOGGER = "custom_components.open_music_box.playback.output_recovery"
CATALOG_LOGGER = "custom_components.open_music_box.catalog"
FOLDER_LOGGER = "custom_components.open_music_box.library.folder"


@pytest.fixture
async def room_entry(hass: HomeAssistant, tmp_path: Path) -> MockConfigEntry:
    """A box with one room (one local member), loaded."""
    return await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )


async def test_media_players_are_not_polled(
    hass: HomeAssistant, room_entry: MockConfigEntry
) -> None:
    """Nothing rewrites the players' state on a timer (HA polls entities every 10 s by default)."""
    reported: list[str] = []
    ours = {ENTITY_ID, ROOM_ENTITY}

    @callback
    def ours_only(data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in ours

    def report(event: Event) -> None:
        reported.append(event.data["entity_id"])

    unsub = hass.bus.async_listen(EVENT_STATE_REPORTED, report, event_filter=ours_only)
    for step in range(1, 4):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11 * step))
        await hass.async_block_till_done()
    unsub()
    assert ENTITY_ID not in reported
    assert ROOM_ENTITY not in reported
    await hass.config_entries.async_unload(room_entry.entry_id)


async def test_media_players_are_speakers(hass: HomeAssistant, room_entry: MockConfigEntry) -> None:
    """The box and its rooms play audio only: device class speaker; durations are durations."""
    for entity_id in (ENTITY_ID, ROOM_ENTITY):
        current = hass.states.get(entity_id)
        assert current is not None
        assert current.attributes[ATTR_DEVICE_CLASS] == MediaPlayerDeviceClass.SPEAKER
    for entity_id, device_class in (
        ("number.music_box_daily_limit", NumberDeviceClass.DURATION),
        ("sensor.music_box_listened_today", SensorDeviceClass.DURATION),
        ("sensor.music_box_sleep_timer", SensorDeviceClass.TIMESTAMP),
    ):
        current = hass.states.get(entity_id)
        assert current is not None, entity_id
        assert current.attributes.get(ATTR_DEVICE_CLASS) == device_class, entity_id
    await hass.config_entries.async_unload(room_entry.entry_id)


async def test_output_loss_logged_once_each_way(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """mpv gone: one INFO; the retries every 5 s log at DEBUG only; back: one INFO."""
    caplog.set_level(logging.INFO, logger="custom_components.open_music_box")
    caplog.set_level(logging.DEBUG, logger=RECOVERY_LOGGER)
    player = entry.runtime_data.player
    old_output = player.output
    monkeypatch.setitem(sys.modules, "mpv", None)  # restarts fail, as without libmpv
    await hass.async_add_executor_job(old_output.mpv.command, "quit")
    await wait_for(lambda: any("Cannot restart" in r.message for r in caplog.records))
    assert state(hass).state == STATE_UNAVAILABLE
    now = dt_util.utcnow()
    for retry in range(1, 4):
        async_fire_time_changed(hass, now + timedelta(seconds=(RECOVERY_DELAY_SECONDS + 1) * retry))
        await hass.async_block_till_done()
    retries = [r for r in caplog.records if "Cannot restart" in r.message]
    assert len(retries) == 4
    assert [r.levelno for r in retries] == [logging.INFO] + [logging.DEBUG] * 3

    monkeypatch.undo()  # libmpv is back: the next retry restarts the output
    async_fire_time_changed(hass, now + timedelta(seconds=(RECOVERY_DELAY_SECONDS + 1) * 5))
    await wait_for(lambda: player.available)
    await hass.async_block_till_done()
    assert state(hass).state != STATE_UNAVAILABLE
    logged = [  # from any of our modules: mpv's own end is no second line
        r
        for r in caplog.records
        if r.name.startswith("custom_components.open_music_box")
        and r.levelno > logging.DEBUG
        and not r.getMessage().startswith("Audio device 'auto' cannot be opened")  # no sound card
    ]
    assert [r.levelno for r in logged] == [logging.INFO] * 3, [r.getMessage() for r in logged]
    assert logged[0].getMessage() == "Audio output stopped unexpectedly; restarting it"
    assert logged[1].getMessage().startswith("Cannot restart the audio output: ")
    assert logged[2].getMessage() == "Audio output is back"


async def test_library_loss_logged_once_each_way(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The library folder gone: one INFO, whatever the checks and rescans; back: one INFO."""
    caplog.set_level(logging.INFO)
    box = entry.runtime_data
    moved = library.with_name("moved")
    await hass.async_add_executor_job(library.rename, moved)
    now = dt_util.utcnow()
    for check in range(1, 4):  # the folder is checked every 30 s
        async_fire_time_changed(hass, now + timedelta(seconds=31 * check))
        await hass.async_block_till_done()
    await box.async_rescan()
    assert state(hass).state == STATE_UNAVAILABLE

    await hass.async_add_executor_job(moved.rename, library)
    async_fire_time_changed(hass, now + timedelta(seconds=31 * 4))
    await wait_for(lambda: state(hass).state != STATE_UNAVAILABLE)
    logged = [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name in {CATALOG_LOGGER, FOLDER_LOGGER} and r.levelno >= logging.INFO
    ]
    assert logged == [
        (logging.INFO, f"Library folder {library} is missing"),
        (logging.INFO, f"Library folder {library} is back"),
    ]
