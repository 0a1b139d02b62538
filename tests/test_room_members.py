"""Sync room members: members that stall or come late, HA media players as members.

Every member is a real player: local members are libmpv instances on the null audio output
(the device "auto" falls back to it on a machine without a sound card, another name too), and
entity members are a real media_player entity of a test platform. Sync is checked as what it
is, members' fitted audio-pts lines within a couple of milliseconds of each other.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.const import STATE_PAUSED, STATE_PLAYING
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_ENTITY_MEMBERS,
    DOMAIN,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.sync.controller import BURST
from custom_components.open_music_box.sync.coordinator import (
    MAX_START_DELAY_SECONDS,
    READY_TIMEOUT_SECONDS,
)
from custom_components.open_music_box.sync.entity_member import (
    ENTITY_SEEK_ABOVE_SECONDS,
    ENTITY_SEEK_COOLDOWN_SECONDS,
    EntityMember,
)
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.timeline import TimelineState, server_time

from .audio import make_track
from .helpers.rooms import (  # noqa: F401 (fixtures)
    INTERNAL_URL,
    ROOM_ENTITY,
    ROOM_ID,
    assert_together,
    call,
    local_members,
    mpv_property,
    play_long,
    regular_user,
    room_of,
    room_subentry,
    settled_spread,
    setup_room_entry,
    shown_members,
    speaker,
    state,
    sync_library,
    two_locals,
    until,
)
from .target_player import TARGET_ID, TargetPlayer

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
    """An HTTP server whose first answer comes only after the room started without it (a slow
    network share: the barrier's wait, then the start delay, then one more second); later ones
    are quick."""
    track = make_track(tmp_path / "stream" / "tone.wav", 30.0, freq=500)
    info: dict[str, Any] = {"requests": 0, "released": None}

    async def handle(request: web.Request) -> web.StreamResponse:
        info["requests"] += 1
        if info["requests"] == 1:
            await asyncio.sleep(READY_TIMEOUT_SECONDS + MAX_START_DELAY_SECONDS + 1.0)
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
