"""The panel's room operations: members added, removed and moved in the room's subentry, and
each member's live status (error, speed trim, offset, realignments) on the box's subscription.

Real HA core, real libmpv members on the null output, a real media player of a test platform.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import (
    CONF_AUDIO_DEVICE,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_ROOM_SATELLITE_OFFSETS,
)

from .helpers.rooms import (  # noqa: F401 (fixtures)
    ROOM_ENTITY,
    ROOM_ID,
    play_long,
    room_of,
    room_subentry,
    setup_room_entry,
    speaker,
    sync_library,
    until,
)
from .helpers.satellites import (  # noqa: F401 (fixtures)
    Raw,
    SatelliteFactory,
    base_url,
    raw,
    room_entry,
    satellite_member,
    satellites,
    start,
)
from .helpers.ws import Client
from .target_player import TARGET_ID, TargetPlayer


@pytest.fixture
async def room_box(
    hass: HomeAssistant, tmp_path: Path, speaker: TargetPlayer
) -> AsyncGenerator[MockConfigEntry]:
    """A box whose room Living room has one local member (null output)."""
    entry = await setup_room_entry(
        hass, sync_library(tmp_path / "library"), room_subentry(local=[("null", 0.0)])
    )
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


def stored(entry: MockConfigEntry) -> dict[str, Any]:
    return dict(entry.subentries[ROOM_ID].data)


async def test_members_and_offsets_land_in_the_room(
    hass: HomeAssistant, room_box: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """An offset, an added media player and a removed device are stored and applied."""
    admin = Client(await hass_ws_client(hass), room_box.entry_id)
    room = room_of(room_box)
    offered = await admin.ok("rooms/candidates", room_id=ROOM_ID)
    assert TARGET_ID in [player["id"] for player in offered["entity"]]
    assert ROOM_ENTITY not in [player["id"] for player in offered["entity"]]  # our own

    await admin.ok("rooms/set_offset", room_id=ROOM_ID, member_id="local:null", offset_ms=42)
    assert stored(room_box)[CONF_ROOM_LOCAL_DEVICES] == [
        {CONF_AUDIO_DEVICE: "null", CONF_OFFSET_MS: 42.0}
    ]
    assert room.coordinator.members["local:null"].offset == pytest.approx(0.042)

    result = await admin.ok("rooms/add_member", room_id=ROOM_ID, kind="entity", member=TARGET_ID)
    assert result["member_id"] == f"entity:{TARGET_ID}"
    assert stored(room_box)[CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: TARGET_ID, CONF_OFFSET_MS: 0.0}
    ]
    assert f"entity:{TARGET_ID}" in room.coordinator.members

    await admin.ok("rooms/remove_member", room_id=ROOM_ID, member_id="local:null")
    assert stored(room_box)[CONF_ROOM_LOCAL_DEVICES] == []
    assert "local:null" not in room.coordinator.members
    # Applied without a reload: the room is the same object.
    assert room_of(room_box) is room


async def test_bad_members_are_refused_and_change_nothing(
    hass: HomeAssistant, room_box: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Our own players, unknown names and unknown members get translated errors."""
    admin = Client(await hass_ws_client(hass), room_box.entry_id)
    before = stored(room_box)
    refused = (
        ("rooms/add_member", "cannot_join_own_player", {"kind": "entity", "member": ROOM_ENTITY}),
        ("rooms/add_member", "room_member_unknown", {"kind": "entity", "member": "media_player.x"}),
        ("rooms/add_member", "room_member_unknown", {"kind": "local", "member": "no-such-device"}),
        ("rooms/set_offset", "member_not_found", {"member_id": "local:x", "offset_ms": 1}),
        ("rooms/remove_member", "member_not_found", {"member_id": "entity:media_player.x"}),
    )
    for command, key, fields in refused:
        error = await admin.error(command, key, room_id=ROOM_ID, **fields)
        assert error["translation_key"] == key
    await admin.error("rooms/remove_member", "room_not_found", room_id="nope", member_id="x")
    too_far = {"member_id": "local:null", "offset_ms": 5000}
    await admin.error("rooms/set_offset", "invalid_format", room_id=ROOM_ID, **too_far)
    assert stored(room_box) == before


async def test_live_status_on_the_subscription(
    hass: HomeAssistant, room_box: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The snapshot has each member's status; while playing, its measured error follows."""
    admin = Client(await hass_ws_client(hass), room_box.entry_id)
    feed = await admin.feed()
    snapshot = feed.events[0]["data"]
    (status,) = snapshot["rooms"][0]["status"]["members"]
    assert status["member_id"] == "local:null"
    assert status["connected"] is True
    assert status["error_ms"] is None  # nothing measured yet
    assert {"speed", "offset_ms", "realignments"} <= status.keys()
    await play_long(hass, room_box)

    def measured() -> bool:
        return any(
            event["type"] == "room_status" and event["data"]["members"][0]["error_ms"] is not None
            for event in feed.events
        )

    while not measured():
        await admin.read()


async def test_satellites_and_local_devices(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    start: SatelliteFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A satellite's offset moves at once and it is dropped when removed; a device is added."""
    admin = Client(await hass_ws_client(hass), room_entry.entry_id)
    room = room_of(room_entry)
    satellite = await start()
    member = satellite_member(room, satellite)
    await admin.ok("rooms/set_offset", room_id=ROOM_ID, member_id=member.member_id, offset_ms=-20)
    assert member.offset == pytest.approx(-0.02)
    assert stored(room_entry)[CONF_ROOM_LOCAL_DEVICES] == [
        {CONF_AUDIO_DEVICE: "null", CONF_OFFSET_MS: 0.0}
    ]
    await admin.ok("rooms/remove_member", room_id=ROOM_ID, member_id=member.member_id)
    await until(lambda: member.member_id not in room.coordinator.members)
    await until(lambda: any(e.get("reason") == "removed" for e in satellite.received))

    await admin.ok("rooms/add_member", room_id=ROOM_ID, kind="local", member="auto", offset_ms=5)
    assert stored(room_entry)[CONF_ROOM_LOCAL_DEVICES][-1] == {
        CONF_AUDIO_DEVICE: "auto",
        CONF_OFFSET_MS: 5.0,
    }
    assert "local:auto" in room.coordinator.members
    unknown = {"kind": "sendspin", "member": "no-such-player"}
    await admin.error("rooms/add_member", "room_member_unknown", room_id=ROOM_ID, **unknown)


async def test_a_satellites_offset_from_the_panel_wins_when_it_rejoins(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    raw: Raw,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The parent's offset is stored by member id and applied when the satellite joins again."""
    admin = Client(await hass_ws_client(hass), room_entry.entry_id)
    room = room_of(room_entry)
    _, joined = await raw.join(member_id="sat-kitchen", name="Kitchen", offset_ms=10)
    member_id = joined["member_id"]
    assert room.coordinator.members[member_id].offset == pytest.approx(0.01)
    await admin.ok("rooms/set_offset", room_id=ROOM_ID, member_id=member_id, offset_ms=-20)
    assert stored(room_entry)[CONF_ROOM_SATELLITE_OFFSETS] == {member_id: -20.0}
    # It rejoins with its own offset: the panel's holds.
    _, again = await raw.join(member_id=member_id, name="Kitchen", offset_ms=10)
    assert again["rejoined"] is True
    assert room.coordinator.members[member_id].offset == pytest.approx(-0.02)
    # Removed for good, it is forgotten: joining again (same id), its own offset counts.
    await admin.ok("rooms/remove_member", room_id=ROOM_ID, member_id=member_id)
    assert stored(room_entry)[CONF_ROOM_SATELLITE_OFFSETS] == {}
    _, back = await raw.join(member_id=member_id, name="Kitchen", offset_ms=10)
    assert back["rejoined"] is False
    assert room.coordinator.members[member_id].offset == pytest.approx(0.01)
