"""A sync room on a real box: its entry, its members, waiting for them to be in step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import Context, HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.open_music_box.const import (
    CONF_AUDIO_DEVICE,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    ROOM_CONTROL_EVERYONE,
    SUBENTRY_ROOM,
)
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.timeline import server_time

from ..audio import make_track
from ..conftest import box_entry
from ..target_player import TARGET_ID, TargetPlayer, async_setup_target_platform
from .player import playlist_id

ROOM_ID = "room1"


ROOM_ENTITY = "media_player.living_room"


INTERNAL_URL = "http://192.0.2.10:8123"


# Members of a room after a start, a seek or a realignment: within this of each other and of
# the room's line. Reached at once on a quiet machine; on a loaded one (the start is spun on a
# CPU) the speed trims bring a member that starts a few ms off within it in a few seconds.
TOGETHER_MS = 2.0


CONVERGE_SECONDS = 6.0


def room_subentry(
    local: list[tuple[str, float]] | None = None,
    control: str = ROOM_CONTROL_EVERYONE,
    users: list[str] | None = None,
    entities: list[str] | None = None,
    title: str = "Living room",
) -> ConfigSubentryDataWithId:
    """The subentry of a room (Living room unless named)."""
    return ConfigSubentryDataWithId(
        subentry_id=ROOM_ID,
        subentry_type=SUBENTRY_ROOM,
        title=title,
        unique_id=None,
        data={
            CONF_ROOM_CONTROL: control,
            CONF_ROOM_CONTROL_USERS: users or [],
            CONF_ROOM_LOCAL_DEVICES: [
                {CONF_AUDIO_DEVICE: device, CONF_OFFSET_MS: offset}
                for device, offset in (local or [])
            ],
            CONF_ROOM_ENTITY_MEMBERS: [
                {"entity_id": entity_id, CONF_OFFSET_MS: 0.0} for entity_id in entities or []
            ],
        },
    )


def sync_library(root: Path) -> Path:
    """A library with one long track (the room needs time to measure) and a short one."""
    make_track(root / "Long" / "01 Tone.wav", 30.0, freq=440, title="Tone")
    make_track(root / "Long" / "02 Other.wav", 2.0, freq=330, title="Other")
    return root


async def setup_room_entry(
    hass: HomeAssistant, library: Path, subentry: ConfigSubentryDataWithId, **options: Any
) -> MockConfigEntry:
    """Load a box with one room."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library, **options)
    entry.subentries_data = ()  # type: ignore[attr-defined]
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
        subentries_data=[subentry],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def room_of(entry: MockConfigEntry) -> Room:
    return entry.runtime_data.rooms[ROOM_ID]  # type: ignore[no-any-return]


async def until(predicate: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait (real time) until predicate() is true."""
    deadline = server_time() + timeout
    while not predicate():
        assert server_time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def spread_ms(room: Room) -> float | None:
    """The largest difference between members' fitted positions now, in ms."""
    now = server_time()
    positions = []
    for member in room.coordinator.members.values():
        measured = member.measure(now)
        if measured is None:
            return None
        positions.append(measured[1] - member.offset)
    return (max(positions) - min(positions)) * 1000


def error_ms(room: Room, member_id: str) -> float | None:
    """How far one member is from the room's timeline now (its offset taken off), in ms."""
    member = room.coordinator.members[member_id]
    now = server_time()
    if (measured := member.measure(now)) is None:
        return None
    return (measured[1] - member.offset - room.coordinator.timeline.position_at(now)) * 1000


async def settled_spread(room: Room, settle: float = 1.0) -> float:
    """Wait until every member is measured, let it settle, return the spread in ms."""
    await until(lambda: spread_ms(room) is not None)
    await asyncio.sleep(settle)
    spread = spread_ms(room)
    assert spread is not None
    return spread


def within_ms(room: Room, member_ids: list[str] | None = None) -> bool:
    """Whether the members (all by default) are on the room's line and with each other, within
    TOGETHER_MS."""
    errors = [error_ms(room, member_id) for member_id in member_ids or room.coordinator.members]
    if not all(error is not None and abs(error) < TOGETHER_MS for error in errors):
        return False
    spread = spread_ms(room) if member_ids is None else 0.0
    return spread is not None and spread < TOGETHER_MS


async def assert_together(
    room: Room, member_ids: list[str] | None = None, settle: float = 1.0
) -> None:
    """Wait until the members are measured, let them settle, then see them on the room's line."""
    ids = member_ids or list(room.coordinator.members)
    await until(lambda: all(error_ms(room, member_id) is not None for member_id in ids))
    await asyncio.sleep(settle)
    await until(lambda: within_ms(room, member_ids), timeout=CONVERGE_SECONDS)


def shown_members(hass: HomeAssistant) -> list[tuple[str, str, str, bool]]:
    """The room entity's members attribute: (member id, kind, name, available)."""
    return [
        (m["member_id"], m["kind"], m["name"], m["available"])
        for m in state(hass).attributes["members"]
    ]


def local_members(room: Room) -> list[LocalMember]:
    return [m for m in room.coordinator.members.values() if isinstance(m, LocalMember)]


async def mpv_property(hass: HomeAssistant, member: LocalMember, name: str) -> Any:
    """Read a property of a member's libmpv (off the event loop: it takes mpv's lock)."""
    return await hass.async_add_executor_job(getattr, member.mpv.mpv, name)


def state(hass: HomeAssistant, entity_id: str = ROOM_ENTITY) -> State:
    current = hass.states.get(entity_id)
    assert current is not None
    return current


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any] | None = None,
    context: Context | None = None,
    entity_id: str = ROOM_ENTITY,
) -> None:
    """Call a media_player action on the room (blocking)."""
    await hass.services.async_call(
        "media_player",
        service,
        {"entity_id": entity_id, **(data or {})},
        blocking=True,
        context=context,
    )


async def play_long(
    hass: HomeAssistant, entry: MockConfigEntry, context: Context | None = None
) -> None:
    """Play the Long playlist (Tone, then Other) in the room."""
    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, 'Long')}",
            "media_content_type": "music",
        },
        context,
    )


def regular_user(hass: HomeAssistant, name: str) -> MockUser:
    """A non-admin user of the default users group (may control entities)."""
    group = hass.auth._store._groups[GROUP_ID_USER]
    return MockUser(name=name, groups=[group]).add_to_hass(hass)


@pytest.fixture
async def two_locals(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass, library, room_subentry(local=[("auto", 0.0), ("null", 0.0)])
    )
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def speaker(hass: HomeAssistant) -> TargetPlayer:
    """A real media player of another integration (set up before the box: request it first)."""
    await hass.config.async_update(internal_url=INTERNAL_URL)
    add = await async_setup_target_platform(hass)
    target = TargetPlayer()
    add([target])
    await hass.async_block_till_done()
    assert hass.states.get(TARGET_ID) is not None
    return target
