"""The satellite against a real Home Assistant: identity across restarts, protocol, the command.

Real HA core and HTTP server on a loopback socket with a room (tests/test_satellites.py's
fixtures), the satellite's real libmpv (null output).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import signal
import sys

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from tests.helpers.rooms import ROOM_ID, play_long, room_of, until
from tests.helpers.satellites import in_step, sweep

from custom_components.open_music_box.sync import clockfilter, linefit, protocol
from custom_components.open_music_box.sync.satellite_member import REJOIN_SECONDS
from omb_satellite import EXIT_OK, EXIT_PROTOCOL, Satellite
from omb_satellite.identity import load_identity
from omb_satellite.shared import (
    clockfilter as shipped_clockfilter,
    linefit as shipped_linefit,
    protocol as shipped_protocol,
)

SATELLITE_DIR = Path(__file__).resolve().parent.parent
TIMEOUT = 20.0  # a guard against a hang, not a measured figure


def test_the_sync_math_is_the_integrations_own_file() -> None:
    """One implementation: the satellite's line fit, clock filter and protocol version are the
    integration's files (symbolic links here, copies in a built package)."""
    for shipped, own in (
        (shipped_clockfilter, clockfilter),
        (shipped_linefit, linefit),
        (shipped_protocol, protocol),
    ):
        assert shipped.__file__ is not None
        assert own.__file__ is not None
        assert Path(shipped.__file__).resolve() == Path(own.__file__).resolve()


async def start(satellite: Satellite) -> asyncio.Task[int]:
    task = asyncio.create_task(satellite.run())
    await until(lambda: satellite.joined.is_set() or task.done(), TIMEOUT)
    assert satellite.joined.is_set(), f"the satellite did not join (exit {task.result()})"
    return task


async def crash(task: asyncio.Task[int]) -> None:
    """The satellite dies without leaving (a power cut): its connection just ends."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_restarted_satellite_is_the_same_member(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    base_url: str,
    hass_access_token: str,
    tmp_path: Path,
) -> None:
    room = room_of(room_entry)
    identity = tmp_path / "member_id"

    def satellite() -> Satellite:
        return Satellite(
            base_url,
            hass_access_token,
            ROOM_ID,
            name="kitchen",
            ao="null",
            member_id=load_identity(identity),
        )

    first = satellite()
    task = await start(first)
    member_id = identity.read_text("utf-8").strip()
    assert first.member_id == member_id
    # Its clock filter joined with a settled estimate: on loopback both clocks are one.
    assert first.clock.ready
    assert abs(first.clock.offset) < 0.001
    assert first.clock.error < 0.001
    member = room.satellite(member_id)
    await play_long(hass, room_entry)
    await until(lambda: in_step(room, member_id), TIMEOUT)

    # A reboot within the minute: the same member resumes, and plays in step again.
    await crash(task)
    await until(lambda: not member.available)
    again = satellite()
    task = await start(again)
    assert again.member_id == member_id
    assert room.satellite(member_id) is member
    assert member.available
    await until(lambda: in_step(room, member_id), TIMEOUT)

    # Away for longer: the room dropped it; back, it is a member under the same id again.
    await crash(task)
    await until(lambda: not member.available)
    assert member.disconnected_at is not None
    member.disconnected_at -= REJOIN_SECONDS + 1
    await sweep(hass)
    assert room.satellites() == []
    late = satellite()
    task = await start(late)
    assert late.member_id == member_id
    assert [m.member_id for m in room.satellites()] == [member_id]
    assert room.satellite(member_id) is not member
    await late.stop()
    assert await task == EXIT_OK
    assert room.satellites() == []  # stopping leaves the room


async def test_an_incompatible_satellite_says_why_and_exits(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    base_url: str,
    hass_access_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The integration's translated error is what the satellite prints; it does not retry."""
    future = Satellite(
        base_url, hass_access_token, ROOM_ID, ao="null", protocol=protocol.PROTOCOL + 1
    )
    assert await asyncio.wait_for(future.run(), TIMEOUT) == EXIT_PROTOCOL
    assert f"This satellite speaks protocol {protocol.PROTOCOL + 1}" in caplog.text
    assert "Reconnecting" not in caplog.text
    assert room_of(room_entry).satellites() == []


async def test_the_command_joins_from_its_config_and_leaves_on_sigterm(
    hass: HomeAssistant,
    room_entry: MockConfigEntry,
    base_url: str,
    hass_access_token: str,
    tmp_path: Path,
) -> None:
    """`python -m omb_satellite` (what the omb-satellite script runs) as its own process."""
    room = room_of(room_entry)
    config = tmp_path / "omb-satellite" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'url = "{base_url}"\nroom = "{ROOM_ID}"\nname = "pi"\nao = "null"\n')
    env = {
        **os.environ,
        "OMB_TOKEN": hass_access_token,
        "XDG_CONFIG_HOME": str(tmp_path),
        "PYTHONPATH": str(SATELLITE_DIR),
    }

    def read() -> str:
        return (tmp_path / "log").read_text("utf-8", "replace")

    with (tmp_path / "log").open("w") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omb_satellite", env=env, stderr=log
        )
        try:
            # Joined once it says so (the room adds the member before the satellite has heard).
            await until(lambda: "Joined room" in read() or process.returncode is not None, TIMEOUT)
            output = read()
            assert [m.name for m in room.satellites()] == ["pi"], output
            saved = (config.parent / "member_id").read_text("utf-8").strip()
            assert [m.member_id for m in room.satellites()] == [saved]
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), TIMEOUT) == EXIT_OK
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert room.satellites() == []
    assert "Leaving the room" in read()
