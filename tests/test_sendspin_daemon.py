"""The reference `sendspin` daemon (PyPI `sendspin`, a subprocess) joins a room and plays it.

It has no sound card here: it plays through PortAudio → ALSA's pulse plugin into a private
PulseAudio null sink (bench/_pulse_rig.py), whose monitor is recorded and compared with the
room's timeline (the recording's clock is the server clock: both are the monotonic clock).
script/bootstrap installs libportaudio2, pulseaudio, pulseaudio-utils and libasound2-plugins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
import os
from pathlib import Path
import sys
from typing import Any

from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from bench._pulse_rig import RATE, PulseRig, tool_missing
from custom_components.open_music_box.sync.timeline import server_time

from .helpers.rooms import ROOM_ENTITY, ROOM_ID, room_of, room_subentry, setup_room_entry, until
from .sendspin_player import STEP_HZ, listen_url, play_steps, write_steps

SENDSPIN = Path(sys.executable).with_name("sendspin")
NAME = "Sendspin daemon"
WINDOW = RATE // 10  # 100 ms analysis windows
MARGIN = 0.3  # seconds kept clear of a step's edges: the daemon's own latency and start


@pytest.fixture
async def room_entry(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    library = tmp_path / "library"
    write_steps(library / "Steps" / "01 Steps.wav")
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def rig(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[PulseRig]:
    if (missing := tool_missing()) is not None or not SENDSPIN.exists():
        pytest.fail(f"{missing or SENDSPIN} is missing: run script/bootstrap")
    rig = PulseRig(tmp_path / "pulse", channels=1)
    await hass.async_add_executor_job(rig.start)
    yield rig
    await hass.async_add_executor_job(rig.stop)


def dominant_hz(samples: np.ndarray) -> tuple[float, float]:
    """The strongest frequency of mono float samples, and their RMS."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples)), float(np.sqrt(np.mean(samples**2)))


async def test_sendspin_daemon_plays_the_room(
    hass: HomeAssistant,
    hass_client: Any,
    hass_ws_client: Any,
    room_entry: MockConfigEntry,
    rig: PulseRig,
) -> None:
    """The daemon connects on a signed path, joins, and what it plays is where the room is."""
    tmp_path = rig.folder.parent
    room = room_of(room_entry)
    server = room.parts.sendspin.server
    assert server is not None
    ws = await hass_ws_client(hass)
    url = await listen_url(ws, hass_client, room_entry)
    home = tmp_path / "daemon"
    home.mkdir()
    env = {**os.environ, **rig.env, "PULSE_SINK": rig.sink(0), "HOME": str(home)}
    log = (tmp_path / "daemon.log").open("wb")
    daemon = await asyncio.create_subprocess_exec(
        str(SENDSPIN),
        "daemon",
        *("--url", url, "--name", NAME, "--settings-dir", str(home / "settings")),
        *("--audio-device", "pulse", "--hardware-volume", "false", "--disable-mpris"),
        env=env,
        stdout=log,
        stderr=log,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        await until(lambda: any(c.name == NAME and c.is_connected for c in server.clients), 30)
        client_id = next(c.client_id for c in server.clients if c.name == NAME)
        await ws.send_json(
            {
                "id": 2,
                "type": "open_music_box/sendspin/join",
                "room_id": ROOM_ID,
                "client_id": client_id,
            }
        )
        reply = await ws.receive_json()
        assert "result" in reply, (reply, (tmp_path / "daemon.log").read_text()[-3000:])
        member_id = reply["result"]["member_id"]
        members = hass.states.get(ROOM_ENTITY).attributes["members"]  # type: ignore[union-attr]
        assert {"member_id": member_id, "kind": "sendspin", "name": NAME, "available": True} in (
            members
        )

        await hass.async_add_executor_job(rig.start_recording, tmp_path / "rig.raw")
        await play_steps(hass, room_entry)
        timeline = room.coordinator.timeline
        await until(lambda: timeline.position_at(server_time()) > 6.0, timeout=30)
        data = (await hass.async_add_executor_job(rig.stop_recording))[:, 0]
        started = rig.record_started
    finally:
        if daemon.returncode is None:
            daemon.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(daemon.wait(), 10)
        if daemon.returncode is None:
            daemon.kill()
            await daemon.wait()
        log.close()

    checked = 0
    heard = 0
    wrong: list[tuple[float, float, float]] = []
    for start in range(0, len(data) - WINDOW, WINDOW):
        at = started + start / RATE
        position = timeline.position_at(at)
        second = int(position)
        end = position + WINDOW / RATE
        freq, rms = dominant_hz(data[start : start + WINDOW])
        if rms > 0.01:
            heard += 1
        if position - MARGIN < second or end + MARGIN > second + 1 or second >= len(STEP_HZ):
            continue  # near a step's edge, or outside the track
        checked += 1
        if rms <= 0.01 or abs(freq - STEP_HZ[second]) >= 30:
            wrong.append((position, rms, freq))
    assert checked >= 15, (checked, heard)
    # What it plays is the room's position; a loaded machine may drop a window of it (an
    # underrun of the daemon's own output), never play another part of the track.
    assert all(rms <= 0.01 for _, rms, _ in wrong), wrong
    assert len(wrong) <= checked // 10, (wrong, (tmp_path / "daemon.log").read_text()[-3000:])

    # Gone: the member it joined as leaves the room with its connection.
    await until(lambda: member_id not in room.coordinator.members)
