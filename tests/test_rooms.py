"""Sync rooms with real libmpv members and real HA media players: the room entity, barrier start,
seek, pause, queue, stall, late members, permissions, join/unjoin, volume, restart, subentries.

Every member is a real player: local members are libmpv instances on the null audio output
(the device "auto" falls back to it on a machine without a sound card, another name too), and
entity members are a real media_player entity of a test platform. Sync is checked as what it
is, members' fitted audio-pts lines within a couple of milliseconds of each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiohttp import web
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.components import tag
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryDataWithId
from homeassistant.const import STATE_IDLE, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.open_music_box.const import (
    CONF_AUDIO_DEVICE,
    CONF_ENTITY_ID,
    CONF_LIBRARY_PATH,
    CONF_MAX_VOLUME,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    DOMAIN,
    ROOM_CONTROL_EVERYONE,
    ROOM_CONTROL_USERS,
    SUBENTRY_ROOM,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.sync.controller import BURST
from custom_components.open_music_box.sync.coordinator import READY_TIMEOUT_SECONDS
from custom_components.open_music_box.sync.entity_member import (
    ENTITY_SEEK_ABOVE_SECONDS,
    ENTITY_SEEK_COOLDOWN_SECONDS,
    EntityMember,
)
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.timeline import TimelineState, server_time

from .audio import make_track
from .conftest import ENTITY_ID, box_entry
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform
from .test_media_player import playlist_id

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
) -> ConfigSubentryDataWithId:
    """The subentry of a room named Living room."""
    return ConfigSubentryDataWithId(
        subentry_id=ROOM_ID,
        subentry_type=SUBENTRY_ROOM,
        title="Living room",
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


# The room entity --------------------------------------------------------------------------------


async def test_room_entity_under_its_own_device(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    entity = registry.async_get(ROOM_ENTITY)
    assert entity is not None
    assert entity.unique_id == ROOM_ID
    assert entity.config_subentry_id == ROOM_ID
    devices = dr.async_get(hass)
    box_device = devices.async_get_device(identifiers={(DOMAIN, two_locals.entry_id)})
    room_device = devices.async_get_device(identifiers={(DOMAIN, ROOM_ID)})
    assert box_device is not None
    assert room_device is not None
    assert entity.device_id == room_device.id
    assert room_device.via_device_id == box_device.id
    assert room_device.name == "Living room"
    assert room_device.model == "Sync room"
    assert ROOM_ID in room_device.config_entries_subentries[two_locals.entry_id]

    current = state(hass)
    assert current.state == STATE_IDLE
    assert current.attributes["supported_features"] & 524288  # MediaPlayerEntityFeature.GROUPING
    assert current.attributes["group_members"] == []
    assert current.attributes["room_id"] == ROOM_ID
    assert shown_members(hass) == [
        ("local:auto", "local", "auto", True),
        ("local:null", "local", "null", True),
    ]
    # The box keeps its own player, without grouping.
    assert not state(hass, ENTITY_ID).attributes["supported_features"] & 524288


# Barrier start, seek, pause, queue, stop ---------------------------------------------------------


async def test_barrier_start_keeps_members_together(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    assert len(room.coordinator.members) == 2
    await play_long(hass, two_locals)
    assert room.coordinator.timeline.state is TimelineState.PLAYING
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "Tone"
    assert two_locals.runtime_data.player.queue == []  # the box itself plays nothing
    await assert_together(room, settle=1.5)
    for member in local_members(room):
        assert member.seeks == 0


async def test_seek_brings_members_together_at_the_new_position(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    generation = room.coordinator.timeline.generation

    await call(hass, "media_seek", {"seek_position": 12})
    timeline = room.coordinator.timeline
    assert timeline.generation > generation
    assert timeline.state is TimelineState.PLAYING
    assert timeline.position == 12.0
    assert state(hass).attributes["media_position"] == 12
    await assert_together(room)
    now = server_time()
    for member in local_members(room):
        measured = member.measure(now)
        assert measured is not None
        assert 12.0 < measured[1] < 15.0  # on the new line, not the old one
        assert member.seeks == 0  # a barrier, not a catch-up


async def test_pause_holds_everyone_at_one_position_and_resume_continues_together(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)

    await call(hass, "media_pause")
    assert state(hass).state == STATE_PAUSED
    timeline = room.coordinator.timeline
    assert timeline.state is TimelineState.PAUSED
    paused_at = timeline.position
    assert 0.5 < paused_at < 5.0
    assert room.player.position == pytest.approx(paused_at, abs=0.05)
    # Paused for real: mpv's clock stands still. (While paused after a seek, mpv with the null
    # output reports its position minus the dropped buffer, so it is not compared here; where
    # each member resumes from is, below.)
    held = []
    for member in local_members(room):
        assert await mpv_property(hass, member, "pause") is True
        held.append(await mpv_property(hass, member, "time_pos"))
    await asyncio.sleep(0.3)
    assert [await mpv_property(hass, m, "time_pos") for m in local_members(room)] == held

    await call(hass, "media_play")
    assert state(hass).state == STATE_PLAYING
    assert room.coordinator.timeline.position == paused_at  # resumes where it paused
    # Every member on the room's line, which resumed from `paused_at`: they resumed from there.
    await assert_together(room)
    now = server_time()
    for member in local_members(room):
        measured = member.measure(now)
        assert measured is not None
        assert paused_at < measured[1] < paused_at + 3.0


async def test_queue_controls_through_the_room(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    """Shuffle, next, repeat (the room advances at the end of a track), previous, end."""
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    generation = room.coordinator.timeline.generation

    await call(hass, "shuffle_set", {"shuffle": True})
    assert state(hass).attributes["shuffle"] is True
    assert state(hass).attributes["media_title"] == "Tone"  # the current track plays on
    assert room.coordinator.timeline.generation == generation
    await call(hass, "shuffle_set", {"shuffle": False})

    await call(hass, "media_next_track")
    assert state(hass).attributes["media_title"] == "Other"
    for member in local_members(room):
        assert member.mpv.loaded_path is not None
        assert member.mpv.loaded_path.endswith("02 Other.wav")

    # Repeat all: at the end of the 2 s track, the room starts the first one on every member.
    await call(hass, "repeat_set", {"repeat": "all"})
    starts = room.player.track_starts
    await until(lambda: state(hass).attributes.get("media_title") == "Tone", timeout=6)
    assert room.player.track_starts == starts + 1
    assert state(hass).state == STATE_PLAYING
    for member in local_members(room):
        assert member.mpv.loaded_path is not None
        assert member.mpv.loaded_path.endswith("01 Tone.wav")
    await assert_together(room, settle=0.5)

    # Previous at the start of the first track, repeat all: the last one.
    await call(hass, "media_seek", {"seek_position": 0})
    await call(hass, "media_previous_track")
    assert state(hass).attributes["media_title"] == "Other"
    # Repeat off: the end of the last track is the end of the queue.
    await call(hass, "repeat_set", {"repeat": "off"})
    await until(lambda: state(hass).state == STATE_IDLE, timeout=6)
    assert room.coordinator.timeline.state is TimelineState.IDLE
    for member in local_members(room):
        assert member.mpv.loaded_path is None


async def test_stop_and_play_again(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await call(hass, "media_stop")
    assert state(hass).state == STATE_IDLE
    assert room.coordinator.timeline.state is TimelineState.IDLE
    assert room.coordinator.track is None
    for member in local_members(room):
        assert member.mpv.loaded_path is None
        assert await mpv_property(hass, member, "idle_active") is True

    await call(hass, "media_play")  # the queue stays: it plays again from its track
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "Tone"
    await assert_together(room)


# Members that stall or come late -----------------------------------------------------------------


async def test_a_stalled_member_is_realigned_without_disturbing_the_other(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    stalled, other = local_members(room)
    speeds: list[float] = []

    # Blocked for 300 ms: its player stops, the room's clock does not.
    await stalled.mpv.async_pause()
    await asyncio.sleep(0.3)
    await stalled.mpv.async_play()

    async def watch_other() -> None:
        while True:
            speeds.append(other.controller.speed)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_other())
    try:
        await until(lambda: stalled.seeks >= 1, timeout=5)
        await assert_together(room)
    finally:
        watcher.cancel()
    assert stalled.seeks == 1
    assert other.seeks == 0
    assert all(abs(speed - 1.0) <= BURST + 1e-9 for speed in speeds)  # never more than a burst


async def test_unavailable_entity_member_does_not_hold_the_room(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A member that cannot prepare (its player is gone) is skipped; the others start."""
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass, library, room_subentry(local=[("auto", 0.0)], entities=["media_player.nowhere"])
    )
    room = room_of(entry)
    assert state(hass).attributes["group_members"] == ["media_player.nowhere"]
    assert (
        "entity:media_player.nowhere",
        "entity",
        "media_player.nowhere",
        False,
    ) in shown_members(hass)
    asked = server_time()
    await play_long(hass, entry)
    # Started at once (not after waiting READY_TIMEOUT_SECONDS for the missing one).
    assert room.coordinator.timeline.server_time - asked < READY_TIMEOUT_SECONDS
    assert state(hass).state == STATE_PLAYING
    (local,) = local_members(room)
    await assert_together(room, [local.member_id], settle=0.5)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_member_added_while_playing_catches_up(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    late = LocalMember(hass, "late", 0.0)
    await room.coordinator.async_add(late)
    assert shown_members(hass)[-1] == ("local:late", "local", "late", True)
    await until(lambda: late.measure(server_time()) is not None)
    await assert_together(room)
    assert all(member.seeks == 0 for member in local_members(room) if member is not late)


@pytest.fixture
async def slow_source(
    hass: HomeAssistant, tmp_path: Path, socket_enabled: None
) -> AsyncGenerator[dict[str, Any]]:
    """An HTTP server whose first answer takes 3 s (a slow network share), later ones are quick."""
    track = make_track(tmp_path / "stream" / "tone.wav", 30.0, freq=500)
    info: dict[str, Any] = {"requests": 0, "released": None}

    async def handle(request: web.Request) -> web.StreamResponse:
        info["requests"] += 1
        if info["requests"] == 1:
            await asyncio.sleep(2 * READY_TIMEOUT_SECONDS - 1)
            info["released"] = server_time()
        return web.FileResponse(track)

    app = web.Application()
    app.router.add_get("/tone.wav", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    info["url"] = f"http://127.0.0.1:{port}/tone.wav"
    yield info
    await runner.cleanup()


async def test_a_member_not_ready_in_time_starts_late_and_catches_up(
    hass: HomeAssistant, two_locals: MockConfigEntry, slow_source: dict[str, Any]
) -> None:
    """The room starts without the member whose source answers after READY_TIMEOUT_SECONDS;
    that member starts late, at where the room is by then, and is with the others at once."""
    room = room_of(two_locals)
    await call(
        hass, "play_media", {"media_content_id": slow_source["url"], "media_content_type": "music"}
    )
    assert room.coordinator.timeline.state is TimelineState.PLAYING
    started = room.coordinator.timeline.server_time
    assert slow_source["released"] is None  # the room did not wait for it
    members = local_members(room)
    await until(lambda: any(member.seeks for member in members), timeout=8)
    assert slow_source["released"] is not None
    assert slow_source["released"] > started
    late = next(member for member in members if member.seeks)
    on_time = next(member for member in members if member is not late)
    assert late.seeks == 1
    assert on_time.seeks == 0
    await assert_together(room)


# Who may control a room --------------------------------------------------------------------------


async def test_room_control_limited_to_listed_users(
    hass: HomeAssistant, tmp_path: Path, speaker: TargetPlayer
) -> None:
    owner = regular_user(hass, "Owner")
    guest = regular_user(hass, "Guest")
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(local=[("auto", 0.0)], control=ROOM_CONTROL_USERS, users=[owner.id]),
    )
    room = room_of(entry)
    as_guest = Context(user_id=guest.id)
    denied: list[tuple[str, dict[str, Any]]] = [
        (
            "play_media",
            {
                "media_content_id": f"playlist:{playlist_id(entry, 'Long')}",
                "media_content_type": "music",
            },
        ),
        ("volume_set", {"volume_level": 0.1}),
        ("join", {"group_members": [TARGET_ID]}),
        ("unjoin", {}),
    ]
    for service, data in denied:
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, data, as_guest)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "room_control_denied"
        assert err.value.translation_placeholders == {"room": "Living room"}
        assert str(err.value).startswith("You are not allowed to control the room Living room")
    assert state(hass).state == STATE_IDLE
    assert room.player.volume == 0.5
    assert room.entity_members == []

    # The listed user may; so may an automation or a script (no user).
    await play_long(hass, entry, Context(user_id=owner.id))
    assert state(hass).state == STATE_PLAYING
    await call(hass, "join", {"group_members": [TARGET_ID]}, Context(user_id=owner.id))
    assert room.entity_members == [TARGET_ID]
    await call(hass, "media_pause", context=Context())
    assert state(hass).state == STATE_PAUSED
    await call(hass, "unjoin", context=Context())
    assert room.entity_members == []
    with pytest.raises(ServiceValidationError):
        await call(hass, "media_play", context=as_guest)
    assert state(hass).state == STATE_PAUSED
    # The room's setting is the room's: the guest still controls the box.
    await call(hass, "volume_set", {"volume_level": 0.2}, as_guest, entity_id=ENTITY_ID)
    assert entry.runtime_data.player.volume == 0.2
    await hass.config_entries.async_unload(entry.entry_id)


# Home Assistant media players as members ---------------------------------------------------------


@pytest.fixture
async def with_speaker(
    hass: HomeAssistant, speaker: TargetPlayer, tmp_path: Path
) -> AsyncGenerator[MockConfigEntry]:
    """A room with one local member; the speaker exists (it may be joined)."""
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("auto", 0.0)]))
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)


async def test_join_and_unjoin_a_media_player(
    hass: HomeAssistant, speaker: TargetPlayer, with_speaker: MockConfigEntry
) -> None:
    room = room_of(with_speaker)
    await call(hass, "join", {"group_members": [TARGET_ID, ROOM_ENTITY]})
    assert state(hass).attributes["group_members"] == [TARGET_ID]  # not itself
    subentry = with_speaker.subentries[ROOM_ID]
    assert subentry.data[CONF_ROOM_ENTITY_MEMBERS] == [
        {CONF_ENTITY_ID: TARGET_ID, CONF_OFFSET_MS: 0.0}
    ]
    member = room.coordinator.members[f"entity:{TARGET_ID}"]
    assert isinstance(member, EntityMember)
    assert member.available
    # It joined at its own volume (1.0, the room 0.5): the room's volume moves it by as much.
    await hass.async_block_till_done()  # the subentry's update listener applied it again...
    assert [c.data for c in speaker.services("volume_set")] == [{"volume": 1.0}]  # ...as a no-op
    await call(hass, "volume_set", {"volume_level": 0.3})
    assert speaker.services("volume_set")[-1].data == {"volume": 0.8}
    await call(hass, "join", {"group_members": [TARGET_ID]})  # already there: nothing changes
    assert len(with_speaker.subentries[ROOM_ID].data[CONF_ROOM_ENTITY_MEMBERS]) == 1
    # 2 members + 19 more is one too many: refused as a whole.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "join", {"group_members": [f"media_player.p{i}" for i in range(19)]})
    assert err.value.translation_key == "room_full"
    assert err.value.translation_placeholders == {"room": "Living room", "limit": "20"}
    assert state(hass).attributes["group_members"] == [TARGET_ID]
    # The box itself (or another room) would play the room's stream back into it.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "join", {"group_members": ["media_player.music_box"]})
    assert err.value.translation_key == "cannot_join_own_player"
    assert state(hass).attributes["group_members"] == [TARGET_ID]

    await play_long(hass, with_speaker)
    await until(lambda: speaker.urls)
    url = speaker.urls[-1]
    tone = next(t for t in room.player.queue if t.title == "Tone")
    assert url.startswith(f"{INTERNAL_URL}/api/{DOMAIN}/media/{with_speaker.entry_id}/{tone.id}")
    assert "authSig=" in url
    assert state(hass, TARGET_ID).state == STATE_PLAYING
    assert (f"entity:{TARGET_ID}", "entity", TARGET_ID, True) in shown_members(hass)

    diagnostics = await async_get_config_entry_diagnostics(hass, with_speaker)
    shown = {m["member_id"]: m for m in diagnostics["rooms"][0]["output"]["members"]}
    assert shown[f"entity:{TARGET_ID}"]["output"]["target_entity"] == TARGET_ID

    # A member that fails (its device unreachable) never stops the room.
    speaker.fail = True
    await call(hass, "media_seek", {"seek_position": 10})
    assert state(hass).state == STATE_PLAYING
    assert room.coordinator.timeline.position == 10.0
    assert speaker.services()[-1].service in ("media_seek", "play_media")
    (local,) = local_members(room)
    await assert_together(room, [local.member_id], settle=0.0)
    speaker.fail = False

    await call(hass, "media_pause")
    assert state(hass, TARGET_ID).state == STATE_PAUSED

    await call(hass, "unjoin")
    assert state(hass).attributes["group_members"] == []
    assert with_speaker.subentries[ROOM_ID].data[CONF_ROOM_ENTITY_MEMBERS] == []
    assert f"entity:{TARGET_ID}" not in room.coordinator.members
    assert speaker.services()[-1].service == "media_stop"  # it leaves the room silent
    assert len(room.coordinator.members) == 1  # the local device stays


async def test_entity_member_corrected_by_seek_with_a_cooldown(
    hass: HomeAssistant, speaker: TargetPlayer, with_speaker: MockConfigEntry
) -> None:
    """Off by more than 1 s: one seek to where the room is, then none for 5 s."""
    room = room_of(with_speaker)
    await call(hass, "join", {"group_members": [TARGET_ID]})
    await play_long(hass, with_speaker)
    started = server_time()
    await until(lambda: speaker.urls)
    await asyncio.sleep(0.6)
    assert speaker.services("media_seek") == []  # within a second of the room: left alone

    speaker.set_position(20)  # its own idea of the position, far off
    await until(lambda: speaker.services("media_seek"), timeout=ENTITY_SEEK_COOLDOWN_SECONDS + 2)
    # Not before the cooldown since it was started.
    assert server_time() - started >= ENTITY_SEEK_COOLDOWN_SECONDS - 0.5
    (seek,) = speaker.services("media_seek")
    assert seek.data["position"] == pytest.approx(room.coordinator.position(), abs=0.5)
    assert speaker.services()[-1].service == "media_play"

    speaker.set_position(25)  # off again at once: the cooldown holds the next seek
    await asyncio.sleep(1.5)
    assert len(speaker.services("media_seek")) == 1
    assert ENTITY_SEEK_ABOVE_SECONDS == 1.0


# Volume -----------------------------------------------------------------------------------------


async def test_room_volume_applies_to_every_member_capped_by_the_box(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(local=[("auto", 0.0), ("null", 0.0)]),
        **{CONF_MAX_VOLUME: 60},
    )
    room = room_of(entry)
    members = local_members(room)

    async def volumes() -> list[float]:
        return [await mpv_property(hass, member, "volume") for member in members]

    async def mutes() -> list[bool]:
        return [await mpv_property(hass, member, "mute") for member in members]

    assert await volumes() == [50.0, 50.0]  # the default volume
    await call(hass, "volume_set", {"volume_level": 0.3})
    assert await volumes() == [30.0, 30.0]
    assert state(hass).attributes["volume_level"] == 0.3
    await call(hass, "volume_set", {"volume_level": 0.9})
    assert state(hass).attributes["volume_level"] == 0.6  # the box's maximum
    assert await volumes() == [60.0, 60.0]
    await call(hass, "volume_mute", {"is_volume_muted": True})
    assert await mutes() == [True, True]
    assert state(hass).attributes["is_volume_muted"] is True
    await call(hass, "volume_mute", {"is_volume_muted": False})
    assert await mutes() == [False, False]
    assert entry.runtime_data.player.volume == 0.5  # the box's own volume is its own
    await hass.config_entries.async_unload(entry.entry_id)


# Restart, reconfigure, add and remove rooms ------------------------------------------------------


async def test_room_comes_back_paused_after_a_restart(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await call(hass, "repeat_set", {"repeat": "all"})
    await call(hass, "volume_set", {"volume_level": 0.35})
    await call(hass, "media_seek", {"seek_position": 12})
    queue = [track.id for track in room.player.queue]
    await asyncio.sleep(0.2)

    assert await hass.config_entries.async_unload(two_locals.entry_id)
    assert await hass.config_entries.async_setup(two_locals.entry_id)
    await hass.async_block_till_done()

    again = room_of(two_locals)
    assert again is not room
    assert [track.id for track in again.player.queue] == queue
    assert again.player.playlist_id == playlist_id(two_locals, "Long")
    current = state(hass)
    assert current.state == STATE_PAUSED
    assert current.attributes["media_title"] == "Tone"
    assert current.attributes["repeat"] == "all"
    assert current.attributes["volume_level"] == 0.35
    timeline = again.coordinator.timeline
    assert timeline.state is TimelineState.PAUSED
    assert 12.0 < timeline.position < 13.5
    assert sorted(again.coordinator.members) == ["local:auto", "local:null"]
    for member in local_members(again):
        assert await mpv_property(hass, member, "pause") is True
        assert await mpv_property(hass, member, "time_pos") == pytest.approx(
            timeline.position, abs=0.002
        )
        assert await mpv_property(hass, member, "volume") == 35.0

    await call(hass, "media_play")
    await assert_together(again)


async def test_room_queue_not_restored_when_its_tracks_are_gone(
    hass: HomeAssistant, two_locals: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    await play_long(hass, two_locals)
    assert await hass.config_entries.async_unload(two_locals.entry_id)
    library = Path(two_locals.data[CONF_LIBRARY_PATH])
    (library / "Long" / "02 Other.wav").unlink()
    assert await hass.config_entries.async_setup(two_locals.entry_id)
    await hass.async_block_till_done()
    room = room_of(two_locals)
    assert state(hass).state == STATE_IDLE
    assert room.player.queue == []
    assert len(room.coordinator.members) == 2  # the room itself is back
    assert "its queue changed on disk, not restored" in caplog.text


async def test_reconfigured_room_applies_in_place(
    hass: HomeAssistant, two_locals: MockConfigEntry
) -> None:
    """A new offset and a device removed: same room, same box, no reload, still playing."""
    box = two_locals.runtime_data
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    removed = room.coordinator.members["local:null"]
    assert isinstance(removed, LocalMember)
    subentry = two_locals.subentries[ROOM_ID]
    data = dict(subentry.data)
    data[CONF_ROOM_LOCAL_DEVICES] = [{CONF_AUDIO_DEVICE: "auto", CONF_OFFSET_MS: 300.0}]
    assert hass.config_entries.async_update_subentry(
        two_locals, subentry, data=data, title="Lounge"
    )
    await hass.async_block_till_done()

    assert two_locals.runtime_data is box
    assert room_of(two_locals) is room
    assert room.name == "Lounge"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ROOM_ID)})
    assert device is not None
    assert device.name == "Lounge"
    assert state(hass).attributes["friendly_name"] == "Lounge"
    assert list(room.coordinator.members) == ["local:auto"]
    assert removed.mpv.mpv is None  # its libmpv is released
    assert state(hass).state == STATE_PLAYING
    kept = room.coordinator.members["local:auto"]
    assert kept.offset == pytest.approx(0.3)
    # Fed 300 ms early now: realigned (beyond a trim), and on the room's line with its offset.
    await until(lambda: kept.seeks >= 1, timeout=5)
    await assert_together(room, settle=0.5)


async def test_adding_and_removing_a_room(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    subentry = ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
                CONF_ROOM_CONTROL_USERS: [],
                CONF_ROOM_LOCAL_DEVICES: [],
                CONF_ROOM_ENTITY_MEMBERS: [],
            }
        ),
        subentry_type=SUBENTRY_ROOM,
        title="Kitchen",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(two_locals, subentry)
    await hass.async_block_till_done()
    box = two_locals.runtime_data
    assert set(box.rooms) == {ROOM_ID, subentry.subentry_id}
    kitchen = er.async_get(hass).async_get("media_player.kitchen")
    assert kitchen is not None
    assert kitchen.unique_id == subentry.subentry_id
    assert state(hass, "media_player.kitchen").state == STATE_IDLE
    assert state(hass).state == STATE_IDLE  # the first room is back too

    assert hass.config_entries.async_remove_subentry(two_locals, subentry.subentry_id)
    await hass.async_block_till_done()
    assert set(two_locals.runtime_data.rooms) == {ROOM_ID}
    assert hass.states.get("media_player.kitchen") is None
    assert er.async_get(hass).async_get("media_player.kitchen") is None
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, subentry.subentry_id)}) is None


# A tag starts a playlist in a room ---------------------------------------------------------------


async def test_tag_plays_a_playlist_in_the_room(hass: HomeAssistant, tmp_path: Path) -> None:
    """An automation (tag → play_media on the room) may control a room limited to one user."""
    owner = regular_user(hass, "Owner")
    library = sync_library(tmp_path / "library")
    entry = await setup_room_entry(
        hass,
        library,
        room_subentry(
            local=[("auto", 0.0), ("null", 0.0)], control=ROOM_CONTROL_USERS, users=[owner.id]
        ),
    )
    room = room_of(entry)
    long_id = playlist_id(entry, "Long")
    assert await async_setup_component(hass, "tag", {})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "Tag plays in the living room",
                    "triggers": [{"trigger": "tag", "tag_id": "04a1b2c3d4"}],
                    "actions": [
                        {
                            "action": "media_player.play_media",
                            "target": {"entity_id": ROOM_ENTITY},
                            "data": {
                                "media_content_id": f"playlist:{long_id}",
                                "media_content_type": "playlist",
                            },
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    await tag.async_scan_tag(hass, "04a1b2c3d4", None)
    await until(lambda: state(hass).state == STATE_PLAYING)
    assert room.player.playlist_id == long_id
    assert state(hass).attributes["media_playlist"] == "Long"
    assert state(hass, ENTITY_ID).state == STATE_IDLE  # the box itself does not play
    await assert_together(room)
    await hass.config_entries.async_unload(entry.entry_id)


# Diagnostics ------------------------------------------------------------------------------------


async def test_diagnostics_show_the_rooms(hass: HomeAssistant, two_locals: MockConfigEntry) -> None:
    room = room_of(two_locals)
    await play_long(hass, two_locals)
    await settled_spread(room, 0.5)
    diagnostics = await async_get_config_entry_diagnostics(hass, two_locals)
    (shown,) = diagnostics["rooms"]
    assert shown["room_id"] == ROOM_ID
    assert shown["name"] == "Living room"
    assert shown["state"] == "playing"
    assert shown["control"] == ROOM_CONTROL_EVERYONE
    output = shown["output"]
    assert output["type"] == "room"
    assert output["timeline"]["state"] == "playing"
    assert [m["member_id"] for m in output["members"]] == ["local:auto", "local:null"]
    for member in output["members"]:
        assert member["kind"] == "local"
        assert member["seeks"] == 0
        assert member["last_error_ms"] is not None
        assert abs(member["last_error_ms"]) < 5.0
        assert member["output"]["type"] == "mpv"
