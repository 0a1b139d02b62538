"""Each room has its own bedtime: its switch and times on the room's device, the box's rules
(bedtime playlists, night maximum, sleep minutes) applied to what plays in the room. Real HA
core, real libmpv; the clock moves with the freezer and async_fire_time_changed."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.children.const import (
    CONF_BEDTIME_MAX_VOLUME,
    CONF_BEDTIME_SCHEDULE,
    CONF_BEDTIME_SLEEP_MINUTES,
    CONF_READERS,
    EVENT_BEDTIME,
    EVENT_TAG_REFUSED,
)
from custom_components.open_music_box.const import DOMAIN, STORAGE_VERSION, SUBENTRY_ROOM
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.storage import storage_issue_id

from .children_helpers import action, box_of, reader, scan, set_options
from .conftest import box_entry
from .helpers.ws import Client

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
ROOM = "room1"
SWITCH, START, END = (
    "switch.bedroom_bedtime",
    "time.bedroom_bedtime_start",
    "time.bedroom_bedtime_end",
)
ROOM_SONGS, ROOM_STORY, BOX_SONGS = "04-ROOM-SONGS", "04-ROOM-STORY", "04-BOX-SONGS"


@pytest.fixture
async def house(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """A box with a room "Bedroom": songs and a story (for bedtime) linked to the room, songs
    linked to the box; night maximum 30 %, 20 minutes of sleep timer."""
    return await make_house(hass, library)


async def make_house(
    hass: HomeAssistant, library: Path, entry_id: str | None = None, local: str | None = None
) -> MockConfigEntry:
    """Load the box of `house` (with the given entry id)."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    room = ConfigSubentryDataWithId(
        subentry_id=ROOM,
        subentry_type=SUBENTRY_ROOM,
        title="Bedroom",
        unique_id=None,
        data={
            "control": "everyone",
            "control_users": [],
            "local_devices": [{"audio_device": local, "offset_ms": 0.0}] if local else [],
            "entity_members": [],
        },
    )
    base = box_entry(
        library,
        **{CONF_BEDTIME_MAX_VOLUME: 30, CONF_BEDTIME_SLEEP_MINUTES: 20, "default_volume": 60},
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        **({"entry_id": entry_id} if entry_id else {}),
        title="Music Box",
        data=dict(base.data),
        options=dict(base.options),
        subentries_data=[room],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for tag_id, playlist_id, room_id in (
        (ROOM_SONGS, ANIMALS, ROOM),
        (ROOM_STORY, AUDIOBOOK, ROOM),
        (BOX_SONGS, ANIMALS, None),
    ):
        data = {"tag_id": tag_id, "playlist_id": playlist_id}
        await action(hass, entry, "link_tag", **data, **({"room_id": room_id} if room_id else {}))
    await action(hass, entry, "set_bedtime_playlist", playlist_id=AUDIOBOOK, bedtime=True)
    return entry


async def switch(hass: HomeAssistant, on: bool) -> None:
    """Turn the room's bedtime switch on or off."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    await hass.async_block_till_done()


async def test_room_entities_are_on_the_rooms_device(
    hass: HomeAssistant, house: MockConfigEntry
) -> None:
    """The room's switch and times belong to the room's device, not the box's."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ROOM)})
    assert device is not None
    registry = er.async_get(hass)
    for entity_id in (SWITCH, START, END):
        entity = registry.async_get(entity_id)
        assert entity is not None
        assert entity.device_id == device.id
        assert entity.config_subentry_id == ROOM  # removed with the room
    assert hass.states.get(SWITCH).state == "off"  # type: ignore[union-attr]
    assert hass.states.get("switch.music_box_bedtime").state == "off"  # type: ignore[union-attr]


async def test_a_rooms_bedtime_refuses_in_the_room_only(
    hass: HomeAssistant, house: MockConfigEntry
) -> None:
    """At the room's bedtime: a non-bedtime tag for the room is refused, the box still plays it;
    the room gets the night maximum and a sleep timer, the box neither."""
    box = box_of(house)
    room = box.rooms[ROOM]
    events = async_capture_events(hass, EVENT_BEDTIME)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    await room.player.async_set_volume(0.8)

    await switch(hass, True)
    assert [(e.data["active"], e.data["room_id"]) for e in events] == [(True, ROOM)]
    assert not box.bedtime.active
    assert room.player.volume == pytest.approx(0.3)  # the night maximum, at once
    await room.player.async_set_volume(0.9)
    assert room.player.volume == pytest.approx(0.3)
    await box.player.async_set_volume(0.9)
    assert box.player.volume == pytest.approx(0.9)  # the box has no bedtime

    await scan(hass, ROOM_SONGS, None)
    assert room.player.state is PlayState.IDLE
    assert [(e.data["reason"], e.data["room_id"]) for e in refused] == [("bedtime", ROOM)]
    assert box.chime.history == []  # the room has no local device; the box's is not the room's

    await scan(hass, BOX_SONGS, None)
    assert box.player.state is PlayState.PLAYING
    assert box.player.playlist_id == ANIMALS
    assert box.sleep_timer.ends_at is None

    before = dt_util.utcnow()
    await scan(hass, ROOM_STORY, None)
    assert room.player.state is PlayState.PLAYING
    assert room.player.playlist_id == AUDIOBOOK
    timer = box.room_bedtimes[ROOM].sleep_timer
    assert timer.ends_at is not None
    assert timer.ends_at >= before + timedelta(minutes=19)
    settings = box.room_bedtimes[ROOM].diagnostics()
    assert settings["sleep_timer_ends_at"] == timer.ends_at.isoformat()

    await switch(hass, False)
    await room.player.async_set_volume(0.9)
    assert room.player.volume == pytest.approx(0.9)
    await room.player.async_stop()
    await scan(hass, ROOM_SONGS, None)
    assert room.player.playlist_id == ANIMALS


async def test_a_reader_of_the_room_is_refused_at_the_rooms_bedtime(
    hass: HomeAssistant, house: MockConfigEntry
) -> None:
    """A tag linked to the box, scanned on the room's reader, plays in the room: its bedtime."""
    box = box_of(house)
    bedroom_reader = reader(hass, "Bedroom reader")
    await set_options(hass, house, **{CONF_READERS: {bedroom_reader: ROOM}})
    await switch(hass, True)

    await scan(hass, BOX_SONGS, bedroom_reader)
    assert box.rooms[ROOM].player.state is PlayState.IDLE
    await scan(hass, BOX_SONGS, None)  # any other reader: the box, no bedtime
    assert box.player.state is PlayState.PLAYING


async def test_a_rooms_bedtime_by_the_clock(
    hass: HomeAssistant, house: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With the schedule on, the room's bedtime starts at the room's own time; the morning ends
    it; the box keeps its own times."""
    box = box_of(house)
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=17))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "time", "set_value", {ATTR_ENTITY_ID: START, "time": time(18, 15)}, blocking=True
    )
    await set_options(hass, house, **{CONF_BEDTIME_SCHEDULE: True})
    assert hass.states.get(START).state == "18:15:00"  # type: ignore[union-attr]
    assert hass.states.get(END).state == "07:00:00"  # type: ignore[union-attr]
    events = async_capture_events(hass, EVENT_BEDTIME)

    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=18, minutes=15, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert box.room_bedtimes[ROOM].active
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert not box.bedtime.active  # the box's bedtime starts at 19:30
    assert [(e.data["active"], e.data["source"], e.data["room_id"]) for e in events] == [
        (True, "schedule", ROOM)
    ]

    freezer.move_to(dt_util.start_of_local_day() + timedelta(days=1, hours=7, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not box.room_bedtimes[ROOM].active
    assert hass.states.get(SWITCH).state == "off"  # type: ignore[union-attr]
    await box.rooms[ROOM].player.async_set_volume(0.9)
    assert box.rooms[ROOM].player.volume == pytest.approx(0.9)


async def test_a_rooms_bedtime_survives_a_restart(
    hass: HomeAssistant, house: MockConfigEntry
) -> None:
    """The room's bedtime and its times are stored: after a reload they are as they were."""
    await hass.services.async_call(
        "time", "set_value", {ATTR_ENTITY_ID: END, "time": time(6, 45)}, blocking=True
    )
    await switch(hass, True)
    assert await hass.config_entries.async_reload(house.entry_id)
    await hass.async_block_till_done()
    box = box_of(house)
    assert box.room_bedtimes[ROOM].active
    assert not box.bedtime.active
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert hass.states.get(END).state == "06:45:00"  # type: ignore[union-attr]
    room = box.rooms[ROOM]
    await room.player.async_set_volume(0.9)
    assert room.player.volume == pytest.approx(0.3)
    diagnostics = await async_get_config_entry_diagnostics(hass, house)
    room_bedtime = diagnostics["children"]["room_bedtimes"][ROOM]
    assert room_bedtime["active"] is True
    assert room_bedtime["end"] == "06:45:00"
    assert diagnostics["children"]["refusal_sound"] == "chime"


async def test_a_damaged_rooms_bedtime_is_dropped_alone(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """A stored room bedtime with an impossible time goes; the good one stays (storage_schema)."""
    entry_id = "roombedtime000000000000000000"
    hass_storage[f"{DOMAIN}.{entry_id}"] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "data": {
            "playlists": {},
            "room_bedtimes": {
                ROOM: {"active": True, "since": 1.0, "start": "20:15:00"},
                "gone": {"start": "25:99"},
            },
        },
    }
    entry = await make_house(hass, library, entry_id)
    box = box_of(entry)
    assert box.room_bedtimes[ROOM].active
    assert hass.states.get(START).state == "20:15:00"  # type: ignore[union-attr]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, storage_issue_id(entry_id))
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["lost"] == "room_bedtimes: 1 of 2"


async def test_the_panels_commands(
    hass: HomeAssistant,
    house: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """children/get shows the settings; children/set_room_bedtime and set_refusal_sound change
    them (administrators only); a bad time or room gets a clear error, the socket stays open."""
    admin = Client(await hass_ws_client(hass), house.entry_id)
    child = Client(await hass_ws_client(hass, hass_read_only_access_token), house.entry_id)
    settings = await child.ok("children/get")
    assert settings["refusal_sound"] == "chime"
    assert settings["bedtime"]["active"] is False
    assert settings["bedtime_playlists"] == [AUDIOBOOK]
    assert settings["room_bedtimes"][ROOM]["start"] == "19:30:00"

    reply = await child.call("children/set_room_bedtime", room_id=ROOM, active=True)
    assert reply["error"]["code"] == "unauthorized"
    result = await admin.ok("children/set_room_bedtime", room_id=ROOM, active=True, start="20:10")
    assert result["active"] is True
    assert result["start"] == "20:10:00"
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert hass.states.get(START).state == "20:10:00"  # type: ignore[union-attr]
    assert not (await admin.call("children/set_room_bedtime", room_id=ROOM, end="25:00"))["success"]
    missing = await admin.call("children/set_room_bedtime", room_id="nope", active=True)
    assert missing["error"]["translation_key"] == "room_not_found"

    result = await admin.ok("children/set_refusal_sound", refusal_sound="none")
    await hass.async_block_till_done()
    assert result["refusal_sound"] == "none"
    assert house.options["refusal_sound"] == "none"
    assert not (await admin.call("children/set_refusal_sound", refusal_sound="loud"))["success"]
    assert (await child.ok("children/get"))["room_bedtimes"][ROOM]["active"] is True


async def test_a_removed_rooms_bedtime_goes_with_it(
    hass: HomeAssistant, house: MockConfigEntry
) -> None:
    """Removing the room removes its bedtime's entities and stored state."""
    await switch(hass, True)
    assert hass.config_entries.async_remove_subentry(house, ROOM)
    await hass.async_block_till_done()
    box = box_of(house)
    assert box.room_bedtimes == {}
    assert "room_bedtimes" not in box.store.data or ROOM not in box.store.data["room_bedtimes"]
    registry = er.async_get(hass)
    for entity_id in (SWITCH, START, END):
        assert registry.async_get(entity_id) is None


async def test_a_refusal_in_a_room_chimes_on_its_local_device(
    hass: HomeAssistant, library: Path
) -> None:
    """A room with a local audio device: the refused tag for the room chimes there, once."""
    entry = await make_house(hass, library, local="null")
    await switch(hass, True)
    box = box_of(entry)

    await scan(hass, ROOM_SONGS, None)

    assert [(play.device, play.end) for play in box.chime.history] == [("null", "eof")]
    assert box.rooms[ROOM].player.state is PlayState.IDLE
