"""The sync room subentry flow: add and reconfigure rooms of a real, loaded box."""

from __future__ import annotations

import sys
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.open_music_box.const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_ROOM_SATELLITE_OFFSETS,
    MAX_OFFSET_MS,
    MAX_ROOM_MEMBERS,
    ROOM_CONTROL_EVERYONE,
    ROOM_CONTROL_USERS,
    SUBENTRY_ROOM,
)
from custom_components.open_music_box.playback import mpv_loader

from .conftest import ENTITY_ID
from .helpers.room_flow import (
    _configure,
    _default,
    _fields,
    _options,
    _reconfigure,
    _room,
    _selector_config,
    _start,
    _suggested,
)
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform

# The offsets step names its fields as the user knows the members.
AUTO = "Autoselect device"  # mpv's description of its automatic device
SPEAKER = "Speaker"  # the friendly name of tests/target_player.py's player


@pytest.fixture
async def speaker(hass: HomeAssistant) -> str:
    """A real media player of another integration, a candidate room member.

    Request it before `entry`: its test platform must be set up before the box sets up media_player.
    """
    add = await async_setup_target_platform(hass)
    add([TargetPlayer()])
    await hass.async_block_till_done()
    assert hass.states.get(TARGET_ID) is not None
    return TARGET_ID


@pytest.fixture
def no_libmpv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import mpv` fail as it does on a host without libmpv (the box is loaded already)."""
    monkeypatch.setitem(sys.modules, "mpv", None)


@pytest.fixture
async def devices(hass: HomeAssistant) -> dict[str, str]:
    """The audio devices libmpv lists on this host, as the flow offers them (plugins left out)."""
    listed: dict[str, str] = await hass.async_add_executor_job(mpv_loader.list_audio_devices)
    return mpv_loader.device_labels(listed)


# Helpers ----------------------------------------------------------------------------------------


def _rooms(entry: MockConfigEntry) -> list[ConfigSubentry]:
    return [s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_ROOM]


def _add_room(hass: HomeAssistant, entry: MockConfigEntry, title: str, **data: Any) -> str:
    """Store a room subentry directly (as a previous flow would have) and return its id."""
    subentry = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
                CONF_ROOM_CONTROL_USERS: [],
                CONF_ROOM_LOCAL_DEVICES: [],
                CONF_ROOM_ENTITY_MEMBERS: [],
                **data,
            }
        ),
        subentry_type=SUBENTRY_ROOM,
        title=title,
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry.subentry_id


# Adding a room ----------------------------------------------------------------------------------


async def test_box_offers_rooms_with_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A box has room subentries, which can be reconfigured."""
    assert entry.supported_subentry_types == {
        SUBENTRY_ROOM: {"supports_reconfigure": True},
        "sendspin_player": {"supports_reconfigure": False},  # added and paired, then kept
    }


async def test_add_room_with_members_and_offsets(
    hass: HomeAssistant, speaker: str, entry: MockConfigEntry, devices: dict[str, str]
) -> None:
    """A room with a local device and a media player asks their offsets, then is stored."""
    result = await _start(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert list(_fields(result)) == [
        CONF_NAME,
        CONF_ROOM_CONTROL,
        CONF_ROOM_CONTROL_USERS,
        CONF_ROOM_LOCAL_DEVICES,
        CONF_ROOM_ENTITY_MEMBERS,
    ]
    assert _default(result, CONF_ROOM_CONTROL) == ROOM_CONTROL_EVERYONE
    assert _selector_config(result, CONF_ROOM_CONTROL)["translation_key"] == "room_control"
    # mpv's devices, labelled with mpv's descriptions.
    assert _options(result, CONF_ROOM_LOCAL_DEVICES) == devices
    assert devices[AUDIO_DEVICE_AUTO]

    result = await _configure(
        hass, result, _room(" Living room ", local=[AUDIO_DEVICE_AUTO], entities=[speaker])
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "offsets"
    # Each offset is labelled by what the user picked: mpv's description, the player's name.
    assert list(_fields(result)) == [AUTO, SPEAKER]
    assert _default(result, AUTO) == 0
    assert _default(result, SPEAKER) == 0
    config = _selector_config(result, SPEAKER)
    assert (config["min"], config["max"], config["step"]) == (-MAX_OFFSET_MS, MAX_OFFSET_MS, 1)
    assert config["unit_of_measurement"] == "ms"

    result = await _configure(hass, result, {AUTO: 12, SPEAKER: -150})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room"
    expected = {
        CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
        CONF_ROOM_CONTROL_USERS: [],
        CONF_ROOM_LOCAL_DEVICES: [{CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO, CONF_OFFSET_MS: 12.0}],
        CONF_ROOM_ENTITY_MEMBERS: [{CONF_ENTITY_ID: speaker, CONF_OFFSET_MS: -150.0}],
    }
    assert result["data"] == expected
    [room] = _rooms(entry)
    assert room.title == "Living room"
    assert dict(room.data) == expected


async def test_empty_room_needs_no_offsets(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Satellites join at run time: a room without members is created at once."""
    result = await _configure(hass, await _start(hass, entry), _room("Garden"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
        CONF_ROOM_CONTROL_USERS: [],
        CONF_ROOM_LOCAL_DEVICES: [],
        CONF_ROOM_ENTITY_MEMBERS: [],
    }
    assert [room.title for room in _rooms(entry)] == ["Garden"]


async def test_room_name_must_be_new_and_short(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Names are 1..100 characters, trimmed, and unique in the box, whatever their case."""
    _add_room(hass, entry, "Kitchen")
    result = await _start(hass, entry)
    for name, error in (
        (" kitchen ", "room_name_taken"),
        ("   ", "room_name_invalid"),
        ("x" * 101, "room_name_invalid"),
        ("Kid\u202es room", "room_name_invalid"),  # a bidi override: shown as another name
        ("Bed\x00room", "room_name_invalid"),
    ):
        result = await _configure(hass, result, _room(name))
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_NAME: error}
        # The form keeps what was typed.
        assert _default(result, CONF_NAME) == name

    result = await _configure(hass, result, _room(" " + "x" * 100 + " "))  # trimmed
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sorted(room.title for room in _rooms(entry)) == ["Kitchen", "x" * 100]


async def test_control_by_chosen_users(
    hass: HomeAssistant, entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """Only people who log in are offered; limiting control needs at least one of them."""
    kid = MockUser(name="Kid").add_to_hass(hass)
    nameless = MockUser(name=None).add_to_hass(hass)
    MockUser(name="Robot", system_generated=True).add_to_hass(hass)
    MockUser(name="Gone", is_active=False).add_to_hass(hass)

    result = await _start(hass, entry)
    options = _options(result, CONF_ROOM_CONTROL_USERS)
    assert options[hass_admin_user.id] == hass_admin_user.name
    assert options[kid.id] == "Kid"
    assert options[nameless.id] == nameless.id
    assert "Robot" not in options.values()
    assert "Gone" not in options.values()

    result = await _configure(hass, result, _room("Nursery", control=ROOM_CONTROL_USERS))
    assert result["errors"] == {CONF_ROOM_CONTROL_USERS: "control_users_required"}
    # A user that is not offered is refused by the form itself.
    with pytest.raises(InvalidData):
        await _configure(
            hass, result, _room("Nursery", control=ROOM_CONTROL_USERS, users=["someone"])
        )

    result = await _configure(
        hass, result, _room("Nursery", control=ROOM_CONTROL_USERS, users=[kid.id, kid.id])
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ROOM_CONTROL] == ROOM_CONTROL_USERS
    assert result["data"][CONF_ROOM_CONTROL_USERS] == [kid.id]


async def test_own_players_cannot_be_members(
    hass: HomeAssistant, speaker: str, entry: MockConfigEntry
) -> None:
    """The box's own players are not offered; by registry id or unknown, they are refused."""
    registry = er.async_get(hass)
    own = registry.async_get(ENTITY_ID)
    assert own is not None
    result = await _start(hass, entry)
    config = _selector_config(result, CONF_ROOM_ENTITY_MEMBERS)
    assert config["domain"] == ["media_player"]
    assert config["multiple"] is True
    assert ENTITY_ID in config["exclude_entities"]
    assert speaker not in config["exclude_entities"]

    with pytest.raises(InvalidData):
        await _configure(hass, result, _room("Hall", entities=[ENTITY_ID]))
    for members, error in (
        ([own.id], "entity_is_music_box"),
        (["media_player.ghost"], "entity_not_found"),
        (["0123456789abcdef0123456789abcdef"], "entity_not_found"),
    ):
        result = await _configure(hass, result, _room("Hall", entities=[speaker, *members]))
        assert result["errors"] == {CONF_ROOM_ENTITY_MEMBERS: error}

    # A registry id of a real player is stored as its entity id, once.
    speaker_entry = registry.async_get(speaker)
    assert speaker_entry is not None
    result = await _configure(hass, result, _room("Hall", entities=[speaker, speaker_entry.id]))
    assert list(_fields(result)) == [SPEAKER]
    result = await _configure(hass, result, {SPEAKER: 0})
    assert result["data"][CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: speaker, CONF_OFFSET_MS: 0}
    ]


async def test_too_many_members(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A room has at most MAX_ROOM_MEMBERS configured members."""
    players = [f"media_player.player_{i}" for i in range(MAX_ROOM_MEMBERS)]
    for player in players:
        hass.states.async_set(player, "idle")
    result = await _start(hass, entry)
    result = await _configure(
        hass, result, _room("Party", local=[AUDIO_DEVICE_AUTO], entities=players)
    )
    assert result["errors"] == {"base": "room_too_many_members"}
    result = await _configure(hass, result, _room("Party", entities=players))
    assert result["step_id"] == "offsets"
    assert list(_fields(result)) == [f"player {i}" for i in range(MAX_ROOM_MEMBERS)]


async def test_offsets_must_be_finite_and_in_range(
    hass: HomeAssistant, speaker: str, entry: MockConfigEntry
) -> None:
    """An offset outside ±MAX_OFFSET_MS is refused by the form, a non-number by the flow."""
    result = await _configure(hass, await _start(hass, entry), _room("Den", entities=[speaker]))
    with pytest.raises(InvalidData):
        await _configure(hass, result, {SPEAKER: MAX_OFFSET_MS + 1})
    result = await _configure(hass, result, {SPEAKER: "nan"})
    assert result["step_id"] == "offsets"
    assert result["errors"] == {SPEAKER: "offset_invalid"}
    result = await _configure(hass, result, {SPEAKER: -MAX_OFFSET_MS})
    assert result["data"][CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: speaker, CONF_OFFSET_MS: -MAX_OFFSET_MS}
    ]


async def test_without_libmpv_no_local_device_is_offered(
    hass: HomeAssistant, entry: MockConfigEntry, no_libmpv: None
) -> None:
    """A host without libmpv has no local devices to offer: the field is left out."""
    result = await _start(hass, entry)
    assert result["errors"] == {}
    assert CONF_ROOM_LOCAL_DEVICES not in _fields(result)
    result = await _configure(
        hass, result, {CONF_NAME: "Attic", CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ROOM_LOCAL_DEVICES] == []


# Reconfiguring a room ---------------------------------------------------------------------------


async def test_reconfigure_shows_the_room_and_changes_it(
    hass: HomeAssistant,
    speaker: str,
    entry: MockConfigEntry,
    hass_admin_user: MockUser,
    devices: dict[str, str],
) -> None:
    """The form starts from the room; offsets keep their values; the room keeps its id."""
    kid = MockUser(name="Kid").add_to_hass(hass)
    other = sorted(set(devices) - {AUDIO_DEVICE_AUTO})[0]
    _add_room(hass, entry, "Kitchen")
    room_id = _add_room(
        hass,
        entry,
        "Living room",
        control=ROOM_CONTROL_USERS,
        control_users=[kid.id],
        local_devices=[{CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO, CONF_OFFSET_MS: 12.0}],
        entity_members=[{CONF_ENTITY_ID: speaker, CONF_OFFSET_MS: -150.0}],
        satellite_offsets={"sat-kitchen": -20.0},  # set from the panel: not on the form
    )

    result = await _reconfigure(hass, entry, room_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _default(result, CONF_NAME) == "Living room"
    assert _default(result, CONF_ROOM_CONTROL) == ROOM_CONTROL_USERS
    assert _suggested(result, CONF_ROOM_CONTROL_USERS) == [kid.id]
    assert _suggested(result, CONF_ROOM_LOCAL_DEVICES) == [AUDIO_DEVICE_AUTO]
    assert _suggested(result, CONF_ROOM_ENTITY_MEMBERS) == [speaker]

    # Another room's name is taken; the room's own name is not.
    result = await _configure(hass, result, _room("kitchen", entities=[speaker]))
    assert result["errors"] == {CONF_NAME: "room_name_taken"}
    result = await _configure(
        hass,
        result,
        _room(
            "Lounge",
            control=ROOM_CONTROL_USERS,
            users=[kid.id, hass_admin_user.id],
            local=[other, AUDIO_DEVICE_AUTO],
            entities=[speaker],
        ),
    )
    assert result["step_id"] == "offsets"
    assert list(_fields(result)) == [devices[other], AUTO, SPEAKER]
    assert _default(result, devices[other]) == 0
    assert _default(result, AUTO) == 12.0
    assert _default(result, SPEAKER) == -150.0

    result = await _configure(hass, result, {devices[other]: 40, AUTO: 12, SPEAKER: -100})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    room = entry.subentries[room_id]
    assert room.title == "Lounge"
    assert dict(room.data) == {
        CONF_ROOM_CONTROL: ROOM_CONTROL_USERS,
        CONF_ROOM_CONTROL_USERS: [kid.id, hass_admin_user.id],
        CONF_ROOM_LOCAL_DEVICES: [
            {CONF_AUDIO_DEVICE: other, CONF_OFFSET_MS: 40.0},
            {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO, CONF_OFFSET_MS: 12.0},
        ],
        CONF_ROOM_ENTITY_MEMBERS: [{CONF_ENTITY_ID: speaker, CONF_OFFSET_MS: -100.0}],
        CONF_ROOM_SATELLITE_OFFSETS: {"sat-kitchen": -20.0},
    }
    assert len(_rooms(entry)) == 2


async def test_reconfigure_unchanged_keeps_the_room(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Saving a room as it is changes nothing; clearing its members empties it."""
    data = {
        CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
        CONF_ROOM_CONTROL_USERS: [],
        CONF_ROOM_LOCAL_DEVICES: [{CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO, CONF_OFFSET_MS: 5.0}],
        CONF_ROOM_ENTITY_MEMBERS: [],
    }
    room_id = _add_room(hass, entry, "Study", **data)
    result = await _reconfigure(hass, entry, room_id)
    result = await _configure(hass, result, _room("Study", local=[AUDIO_DEVICE_AUTO]))
    result = await _configure(hass, result, {AUTO: 5})
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[room_id].title == "Study"
    assert dict(entry.subentries[room_id].data) == data

    result = await _configure(hass, await _reconfigure(hass, entry, room_id), _room("Study"))
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[room_id].data[CONF_ROOM_LOCAL_DEVICES] == []


async def test_reconfigure_keeps_members_that_vanished(
    hass: HomeAssistant, entry: MockConfigEntry, no_libmpv: None
) -> None:
    """A device mpv no longer lists and a player that is gone can stay in the room (or go)."""
    room_id = _add_room(
        hass,
        entry,
        "Shed",
        local_devices=[{CONF_AUDIO_DEVICE: "alsa/unplugged", CONF_OFFSET_MS: 30.0}],
        entity_members=[{CONF_ENTITY_ID: "media_player.gone", CONF_OFFSET_MS: 70.0}],
        control_users=["deleted-user"],
    )
    result = await _reconfigure(hass, entry, room_id)
    # Even without libmpv the room's own device is offered, so that it can be removed.
    assert _options(result, CONF_ROOM_LOCAL_DEVICES) == {"alsa/unplugged": "alsa/unplugged"}
    # A deleted user is not offered back.
    assert _suggested(result, CONF_ROOM_CONTROL_USERS) == []

    result = await _configure(
        hass, result, _room("Shed", local=["alsa/unplugged"], entities=["media_player.gone"])
    )
    assert list(_fields(result)) == ["alsa/unplugged", "media_player.gone"]
    assert _default(result, "media_player.gone") == 70.0
    result = await _configure(hass, result, {"alsa/unplugged": 30, "media_player.gone": 70})
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[room_id].data[CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: "media_player.gone", CONF_OFFSET_MS: 70.0}
    ]
