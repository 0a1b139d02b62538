"""Sync rooms measured at the sound output, where a listener is, against Snapcast in the same run.

The ear (bench/_pulse_rig.py): a private PulseAudio daemon with one null sink of N channels and
one mono remap sink per member; one recording of the null sink's monitor holds every member on
its own channel with one clock. Each sink is checked first (a tone reaches only its channel).
A real Home Assistant core (the harness's `hass`) with a room of 2 local mpv members
(`pulse/m0`, `pulse/m1`), the reference satellite (`pulse/m2`) and, when network namespaces can
be made, a second satellite (`pulse/m3`) in a namespace reaching HA through a relay that delays
each direction by 20 ± 5 ms. The room plays generated band-limited noise: a start, a seek, a
pause and resume, a disturbance (the satellite SIGSTOPped for --stall-ms), a second seek.
Then Snapcast (snapserver pipe source on loopback, one snapclient per sink) plays the same
noise on m0..m2, with the same disturbance on one client.

From the recording (bench/_ear.py): each member's track position in windows (cross-correlation
against the track, parabolic sub-sample peak); per pair |offset| median / p95 / max in steady
state (1 s windows, leaving out 3 s after each barrier and the disturbance's recovery); at each
start/seek/resume the onset spread, the audio missing (first sample against the requested
position), the largest offset between members in the first 100 ms, and the time until all
pairs stay within 1 ms (and 0.5 ms); the disturbed member's time back within 5 ms and 1 ms.

With Sendspin members (bench/_sendspin_members.py, _sendspin_phases.py, _sendspin_figures.py):
the `sendspin` daemon and a headless Chromium's Listen here on sinks of their own, calibrated
(their static offsets measured in a phase of their own and set), then measured in the room's run.

Run:  script/bench bench/bench_sync_output.py [--play SECONDS] [--stall-ms MS] [--no-jitter]
      [--no-snapcast] [--no-sendspin] [--no-browser] [--daemon-bias-fix]
(about 2.5 min by default; script/bench installs PulseAudio and Snapcast first).
Last line: RESULT {json}. The load average is printed with the figures: other work on the
machine makes them noisier.
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    from _harness import run_under_pytest

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--play", type=float, default=8.0, help="seconds of play per phase")
    parser.add_argument("--stall-ms", type=float, default=100.0, help="SIGSTOP length")
    parser.add_argument("--no-jitter", action="store_true", help="no namespace satellite")
    parser.add_argument("--no-snapcast", action="store_true", help="skip Snapcast")
    parser.add_argument("--keep", default="", help="save the room's recording here (.npz)")
    parser.add_argument("--no-sendspin", action="store_true", help="no sendspin daemon member")
    parser.add_argument("--no-browser", action="store_true", help="no browser (Listen here)")
    parser.add_argument(
        "--daemon-bias-fix",
        action="store_true",
        help="patch the sendspin daemon's one-block sync error bias (its process only)",
    )
    args = parser.parse_args()
    run_under_pytest(
        __file__,
        {
            "BENCH_PLAY_SECONDS": str(args.play),
            "BENCH_STALL_MS": str(args.stall_ms),
            "BENCH_JITTER": "0" if args.no_jitter else "1",
            "BENCH_SNAPCAST": "0" if args.no_snapcast else "1",
            "BENCH_KEEP": args.keep,
            "BENCH_SENDSPIN": "0" if args.no_sendspin else "1",
            "BENCH_BROWSER": "0" if args.no_browser else "1",
            "BENCH_DAEMON_BIAS_FIX": "1" if args.daemon_bias_fix else "0",
        },
    )

import asyncio
import math
from pathlib import Path
import signal
import time
from typing import Any

from homeassistant.core import HomeAssistant
import numpy as np
import pytest

from bench._netns import RELAY_ADDRESS, RELAY_PORT, Namespaces, Relay, socket_in
from bench._output_figures import (
    RECOVERY_HORIZON_SECONDS,
    Run,
    analyse_room,
    analyse_snapcast,
    conditions,
    report,
)
from bench._pulse_rig import PulseRig, noise, tone, tool_missing, write_wav
from bench._sendspin_members import SendspinMembers
from bench._sendspin_phases import add_members, member_figures
from bench._snapcast import Snapcast, missing as snapcast_missing
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.timeline import TimelineState
from tests.helpers.rooms import ROOM_ENTITY, ROOM_ID, room_subentry, setup_room_entry

ROOT = Path(__file__).resolve().parent.parent
SATELLITE_DIR = ROOT / "satellite"
PLAY = float(os.environ.get("BENCH_PLAY_SECONDS", "8"))
STALL_SECONDS = float(os.environ.get("BENCH_STALL_MS", "100")) / 1000
JITTER = os.environ.get("BENCH_JITTER", "1") == "1"
SNAPCAST = os.environ.get("BENCH_SNAPCAST", "1") == "1"
TRACK_SECONDS = 120.0
LOCAL = ("pulse/m0", "pulse/m1")
JOIN_TIMEOUT_SECONDS = 30.0

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "socket_enabled")


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override the harness fixture of this name: production HA runs without asyncio debug."""
    asyncio.get_event_loop().set_debug(False)


async def start_satellite(
    url: str, token: str, sink: str, folder: Path, prefix: list[str] | None = None
) -> asyncio.subprocess.Process:
    """The reference satellite playing to `sink` of our PulseAudio (its log in `folder`)."""
    with (folder / "satellite.log").open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *(prefix or []),
            sys.executable,
            *("-m", "omb_satellite", "--url", url, "--token", token, "--room", ROOM_ID),
            *("--audio-device", f"pulse/{sink}", "--name", folder.name),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONPATH": str(SATELLITE_DIR), "XDG_CONFIG_HOME": str(folder)},
        )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it hangs."""
    if process.returncode is None:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def trace_decisions(room: Room) -> list[tuple[float, str, float, float, float, float]]:
    """Record each correction the room decides: (server time, member, error, room error, speed,
    the satellite's clock offset: on this one host its error; NaN for the others).

    Saved with --keep, to read a run's controller beside its recording.
    """
    decisions: list[tuple[float, str, float, float, float, float]] = []
    coordinator = room.coordinator
    correct = coordinator._correct  # the bench watches the controller: its input and choice

    def traced(member: Any, error: float, common: float, now: float) -> None:
        correct(member, error, common, now)
        offset = getattr(member, "clock_offset", None)
        offset = math.nan if offset is None else offset
        decisions.append((now, member.name, error, common, member.controller.speed, offset))

    coordinator._correct = traced  # type: ignore[method-assign]
    return decisions


async def joined(room: Room, count: int) -> list[Any]:
    """Wait until `count` satellites joined; return them in the order they joined."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        members = [m for m in room.satellites() if m.available]
        if len(members) >= count:
            return members
        await asyncio.sleep(0.1)
    pytest.fail(f"{count} satellites did not join")


async def play_room(hass: HomeAssistant, room: Room, track_id: str, sat_pid: int) -> Run:
    """Start, seek, pause/resume, a stalled satellite, a second seek; each followed by play."""
    run = Run()

    async def call(service: str, **data: Any) -> None:
        await hass.services.async_call(
            "media_player", service, {"entity_id": ROOM_ENTITY, **data}, blocking=True
        )

    def note(label: str) -> None:
        timeline = room.coordinator.timeline
        assert timeline.state is TimelineState.PLAYING
        run.barriers.append((label, timeline.server_time, timeline.position))
        leads = {
            m.name: round(m.mpv.lead * 1000, 2)
            for m in room.coordinator.members.values()
            if isinstance(m, LocalMember)
        }
        print(f"\n{label}: local output buffers at the unpause (ms): {leads}")

    await call("volume_set", volume_level=1.0)
    await call("play_media", media_content_id=f"track:{track_id}", media_content_type="music")
    note("start")
    await asyncio.sleep(PLAY * 1.5)
    await call("media_seek", seek_position=60.0)
    note("seek")
    await asyncio.sleep(PLAY)
    paused = time.monotonic()
    await call("media_pause")
    await asyncio.sleep(1.5)
    await call("media_play")
    note("resume")
    run.quiet.append((paused, run.barriers[-1][1]))
    await asyncio.sleep(PLAY)
    start = time.monotonic()
    os.kill(sat_pid, signal.SIGSTOP)
    await asyncio.sleep(STALL_SECONDS)
    os.kill(sat_pid, signal.SIGCONT)
    run.stall = (start, time.monotonic())
    await asyncio.sleep(RECOVERY_HORIZON_SECONDS)
    await call("media_seek", seek_position=20.0)
    note("seek 2")
    await asyncio.sleep(PLAY * 1.5)
    await call("media_stop")
    return run


async def test_sync_output(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str, tmp_path: Path
) -> None:
    """Measure (collected only when this file is run as a script)."""
    if (tool := tool_missing()) is not None:
        pytest.fail(f"{tool} is missing: run script/bench bench/bench_sync_output.py")
    namespaces = Namespaces(str(os.getpid() % 100000))
    jitter = JITTER
    if jitter:
        try:
            namespaces.create()
        except Exception as err:  # not allowed here: measure without it, and say so
            print(f"\nno network namespace ({err}): the jitter satellite is left out")
            jitter = False
    names = ["local0", "local1", "satellite"] + (["jitter-sat"] if jitter else [])
    base = len(names)  # then the Sendspin members (bench/_sendspin_members.py)
    sendspin = SendspinMembers(
        tmp_path / "sendspin",
        daemon=os.environ.get("BENCH_SENDSPIN", "1") == "1",
        browser=os.environ.get("BENCH_BROWSER", "1") == "1",
    )
    names += sendspin.names
    rig = PulseRig(tmp_path / "pulse", channels=len(names))
    loop = asyncio.get_running_loop()
    load_before = os.getloadavg()
    processes: list[asyncio.subprocess.Process] = []
    relay: Relay | None = None
    try:
        await loop.run_in_executor(None, rig.start)
        beep = write_wav(tmp_path / "tone.wav", tone())
        if problems := await loop.run_in_executor(None, rig.check_channels, beep):
            pytest.fail("channel check: " + "; ".join(problems))
        signal_ = noise(TRACK_SECONDS)
        for folder in ("sat", "jitter"):
            (tmp_path / folder).mkdir()
        library = tmp_path / "library"
        write_wav(library / "Bench" / "01 Noise.wav", signal_)
        subentry = room_subentry(local=[(device, 0.0) for device in LOCAL])
        entry = await setup_room_entry(hass, library, subentry)
        room: Room = entry.runtime_data.rooms[ROOM_ID]
        decisions = trace_decisions(room)
        track_id = entry.runtime_data.catalog.playlists()[0].track_ids[0]
        await sendspin.register(hass)
        server = await aiohttp_client(hass.http.app)
        url = str(server.make_url("/")).rstrip("/")
        processes.append(await start_satellite(url, hass_access_token, "m2", tmp_path / "sat"))
        await joined(room, 1)
        if jitter:
            listen = socket_in(namespaces.relay, RELAY_ADDRESS, RELAY_PORT)
            relay = Relay(listen, ("127.0.0.1", server.port))
            relay.start()
            processes.append(
                await start_satellite(
                    f"http://{RELAY_ADDRESS}:{RELAY_PORT}",
                    hass_access_token,
                    "m3",
                    tmp_path / "jitter",
                    namespaces.exec_prefix(),
                )
            )
            await joined(room, 2)
            await asyncio.sleep(5)  # the clock filter's first estimates through the jitter
        hub = (url, hass_access_token)
        await add_members(hass, sendspin, hub, room, track_id, rig=rig, names=names, track=signal_)
        rig.start_recording(tmp_path / "room.raw")
        await asyncio.sleep(0.5)
        run = await play_room(hass, room, track_id, processes[0].pid)
        run.stalled = "satellite"
        await asyncio.sleep(0.5)
        room_data = rig.stop_recording()
        room_started = rig.record_started
        internal = {m.name: m.controller.speed for m in room.coordinator.members.values()}
        for process in processes:
            await stop_process(process)
        await sendspin.stop()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        snap: dict[str, Any] | None = None
        if SNAPCAST and snapcast_missing() is None:
            snap = await loop.run_in_executor(None, snapcast_run, rig, tmp_path, signal_)
    finally:
        await sendspin.stop()
        for process in processes:
            await stop_process(process)
        if relay is not None:
            relay.close()
        namespaces.delete()
        rig.stop()
    assert not namespaces.exists(), "a namespace was left behind"
    if keep := os.environ.get("BENCH_KEEP"):
        np.savez(
            keep,
            room=room_data,
            room_started=room_started,
            signal=signal_,
            barriers=np.array([(t0, p) for _, t0, p in run.barriers]),
            quiet=np.array(run.quiet),
            stall=np.array(run.stall),
            decisions=np.array(decisions, dtype=object),
        )
    room_figures = await loop.run_in_executor(
        None, analyse_room, room_started, room_data[:, :base], signal_, run, names[:base]
    )
    extra = await member_figures(sendspin, (room_started, room_data), signal_, run, names)
    snap_figures = None
    if snap is not None:
        snap_figures = await loop.run_in_executor(None, analyse_snapcast, snap, signal_, names[:3])
    report(
        room_figures,
        snap_figures,
        conditions(load_before[0], jitter, PLAY, STALL_SECONDS),
        jitter,
        internal,
        extra=extra,
    )


def snapcast_run(rig: PulseRig, folder: Path, track: np.ndarray) -> dict[str, Any]:
    """Snapcast on m0..m2: the noise from the start, a stalled client, more play."""
    snapcast = Snapcast(folder / "snapcast", rig.env)
    try:
        snapcast.start([rig.sink(i) for i in range(3)])
        time.sleep(3.0)  # the clients connect and sync their clocks
        rig.start_recording(folder / "snapcast.raw")
        time.sleep(0.5)
        snapcast.play(track)
        time.sleep(PLAY * 2 + 1.5)
        stall = snapcast.stall(2, STALL_SECONDS)
        time.sleep(RECOVERY_HORIZON_SECONDS)
        data = rig.stop_recording()
        return {
            "data": data,
            "started": rig.record_started,
            "fed_at": snapcast.fed_at,
            "stall": stall,
        }
    finally:
        snapcast.stop()
