"""bench/_sendspin_members.py: the output bench's Sendspin members join the room and leave nothing.

The `sendspin` daemon (a subprocess on its own process group) and headless Chromium with the
card's Listen here, each on a sink of a private PulseAudio (bench/_pulse_rig.py); their offsets
set through `rooms/set_offset`; stop() ends both processes and they leave the room.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from importlib.util import find_spec
import os
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench._pulse_rig import PulseRig, tool_missing
from bench._sendspin_members import CHROMIUM, SendspinMembers

from .helpers.rooms import room_of, room_subentry, setup_room_entry, until
from .sendspin_player import write_steps

HAS_CHROMIUM = Path(CHROMIUM).exists()
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture
async def room_entry(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    library = tmp_path / "library"
    write_steps(library / "Steps" / "01 Steps.wav")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def rig(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[PulseRig]:
    if (missing := tool_missing()) is not None or find_spec("sendspin") is None:
        pytest.fail(f"{missing or 'sendspin'} is missing: run script/bootstrap")
    if not HAS_CHROMIUM:
        pytest.fail(f"{CHROMIUM} is missing: script/bootstrap installs it")
    rig = PulseRig(tmp_path / "pulse", channels=2)
    await hass.async_add_executor_job(rig.start)
    yield rig
    await hass.async_add_executor_job(rig.stop)


def gone(pid: int) -> bool:
    """No process is left in the group `pid` led."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_members_join_take_offsets_and_leave_nothing(
    hass: HomeAssistant,
    aiohttp_client: Any,
    hass_access_token: str,
    room_entry: MockConfigEntry,
    rig: PulseRig,
) -> None:
    """Both join; their offsets are set; stop() ends both processes; they leave the room."""
    room = room_of(room_entry)
    members = SendspinMembers(rig.folder.parent / "sendspin")
    assert members.names == ["sendspin", "browser"]
    await members.register(hass)
    server = await aiohttp_client(hass.http.app)
    url = str(server.make_url("/")).rstrip("/")
    try:
        await members.start(
            url,
            hass_access_token,
            room,
            pulse_env=rig.env,
            sinks={"sendspin": rig.sink(0), "browser": rig.sink(1)},
        )
        ids = dict(members.member_ids)
        assert set(ids) == {"sendspin", "browser"}
        assert all(member_id in room.coordinator.members for member_id in ids.values())
        await members.set_offsets(
            room_entry.entry_id, room.room_id, {"sendspin": 12.5, "browser": -3.0}
        )
        offsets = {n: room.coordinator.members[i].offset for n, i in ids.items()}
        assert offsets == pytest.approx({"sendspin": 0.0125, "browser": -0.003})
        assert members.process is not None
        pid = members.process.pid
    finally:
        await members.stop()
    assert members.process.returncode is not None
    assert gone(pid)
    assert members._chromium is None
    await until(lambda: not set(ids.values()) & set(room.coordinator.members), 30)
