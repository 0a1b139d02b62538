"""Sync rooms: the error between the members of a room, measured on their own audio clocks.

A real Home Assistant core (the test harness's `hass` fixture, run by bench/_harness.py) with a
box and one room of 3 local mpv members (libmpv on the null audio output) serves its WebSocket
API on a loopback TCP port (aiohttp's test server on 127.0.0.1); the reference satellite
(`python -m omb_satellite` from satellite/, --ao null) runs as a subprocess and joins the room
with a token.
The room plays a generated 90 s track: a barrier start, 3 seeks, a pause and resume, and one
local member stalled 300 ms once (its mpv paused directly), each followed by some playback.

Measured, every ~100 ms, each local member's fitted audio-pts line (timestamped `audio-pts`
notifications, what the room itself corrects with) against the room's timeline, and each
satellite report (its own fitted position at its local time t, sent as server time t + its
clock-offset estimate) against the timeline and the local members' lines at the true instant t
(one machine: both clocks are CLOCK_MONOTONIC, so the estimate's error counts, as it does in
what is heard; the figure at the reported server time, as the room sees it, is shown too):
- local: spread of the local members' errors at one instant (max - min);
- satellite: max |satellite - local member| at the instant of each report;
steady state leaves out 1.5 s after every start/seek/resume and the stall plus 3 s.
Also: each member's first measurement after every barrier (error against the timeline), the
time from T0 until every member's latest measurement is within 5 ms of the others (bounded
below by when a line can first be fitted: ~0.4 s), the stalled member's recovery, the
satellite's clock-offset estimate (both processes use CLOCK_MONOTONIC on one machine, so the
true offset is 0 and |offset| is the error), the speed trims, changes and seeks per member, and
(diagnostic) how late each local unpause returned on its mpv worker thread.

RESULT keys: local_p95_ms, satellite_p95_ms (steady state); seek_first_ms (largest |error| of a
member's first measurement after any of the 3 seeks); converge_ms (slowest of the seeks and the
resume to all within 5 ms); clock_err_p95_ms; max_speed_dev_pct (every speed measured, set or
reported); plus medians, maxima, the satellite's signed bias, the stall's recovery, the local-only
convergence and the largest spread of one barrier's local unpauses.

asyncio debug mode, which the test harness turns on, is turned off: production HA runs without it.

Run:  .venv/bin/python bench/bench_sync.py        (about 70 s)
The last line is `RESULT {json}` (milliseconds, speed deviation in %).
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    from _harness import run_under_pytest

    run_under_pytest(__file__)

import asyncio
import contextlib
import json
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

# Imported before the hass fixture runs, or HA's test config would shadow custom_components.
from bench._harness import cpu_model
from bench._sync_metrics import (
    Phase,
    Recording,
    Sample,
    fmt,
    phase_figures,
    print_table,
    stall_figures,
    steady_figures,
    summary,
)
from custom_components.open_music_box.sync.local_member import LocalMember
from custom_components.open_music_box.sync.member import Member
from custom_components.open_music_box.sync.room import Room
from custom_components.open_music_box.sync.satellite_member import Report, SatelliteMember
from custom_components.open_music_box.sync.timeline import TimelineState, server_time
from tests.audio import make_track
from tests.helpers.rooms import ROOM_ENTITY, ROOM_ID, room_subentry, setup_room_entry

ROOT = Path(__file__).resolve().parent.parent
SATELLITE_DIR = ROOT / "satellite"  # the omb_satellite package
TRACK_SECONDS = 90.0
LOCAL_DEVICES = ("auto", "null", "null2")  # no sound card: each falls back to the null output
STALLED = "local:null"
SAMPLE_SECONDS = 0.1
FIRST_PLAY_SECONDS = 12.0
SEEKS = ((45.0, 10.0), (10.0, 10.0), (30.0, 10.0))  # (position, seconds played after)
PAUSED_SECONDS = 1.0
BEFORE_STALL_SECONDS = 8.0
AFTER_STALL_SECONDS = 10.0
STALL_SECONDS = 0.3
JOIN_TIMEOUT_SECONDS = 30.0
SATELLITE_NAME = "satellite"  # in the tables (its member id is a random hex string)

# (RESULT key, goal, must reach); lower is better for all of them.
GOALS = (
    ("local_p95_ms", 1.0, 2.0),
    ("satellite_p95_ms", 5.0, 10.0),
    ("clock_err_p95_ms", 0.1, None),
    ("converge_ms", 1000.0, None),
    ("max_speed_dev_pct", 0.5, None),
)

# tests/conftest.py is not loaded here: enable custom integrations for this file.
pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "socket_enabled")


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override the harness fixture of this name: production HA runs without asyncio debug."""
    asyncio.get_event_loop().set_debug(False)


# The satellite process ---------------------------------------------------------------------


async def start_satellite(url: str, token: str, log: Path) -> asyncio.subprocess.Process:
    """Run the reference satellite with mpv's null output; its log goes to `log`."""
    with log.open("ab") as out:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "omb_satellite"),
            *("--url", url, "--token", token, "--room", ROOM_ID),
            *("--ao", "null", "--name", "bench"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            # Its config and member id in the run's folder, never the user's.
            env={
                **os.environ,
                "PYTHONPATH": str(SATELLITE_DIR),
                "XDG_CONFIG_HOME": str(log.parent),
            },
        )


async def wait_for_satellite(
    room: Room, process: asyncio.subprocess.Process, log: Path
) -> SatelliteMember:
    """Return the satellite's member once it joined; fail with its log if it does not."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.returncode is None:
        for member in room.satellites():
            if member.available:
                return member
        await asyncio.sleep(0.1)
    print(f"\nThe satellite did not join (exit code {process.returncode}); its log:")
    print(read_log(log))
    pytest.fail("the reference satellite did not join the room")


def read_log(log: Path) -> str:
    """The satellite's log so far."""
    return log.read_text("utf-8", "replace") if log.exists() else ""


async def stop_satellite(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (it leaves the room), then kill if it hangs."""
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


# Recording ---------------------------------------------------------------------------------


class Recorder:
    """Samples the members every SAMPLE_SECONDS and notes barriers, the stall and speed changes."""

    def __init__(self, room: Room, local: list[LocalMember], satellite: SatelliteMember) -> None:
        self.room = room
        self.local = local
        self.satellite = satellite
        self.recording = Recording([m.member_id for m in local], satellite.member_id)
        self.reported_speeds: list[float] = []
        self.speeds_set: dict[str, list[float]] = {m.member_id: [] for m in self.members}
        self.seeks_before = {m.member_id: m.seeks for m in self.members}
        self.started = server_time()
        self._last_report: Report | None = None
        self._task: asyncio.Task[None] | None = None
        # (instant, ms late) of every local start, taken on the mpv worker thread.
        self.starts: dict[str, list[tuple[float, float]]] = {m.member_id: [] for m in local}
        for member in self.members:
            self._record_speeds(member)
        for member in local:
            self._record_starts(member)

    @property
    def members(self) -> list[Member]:
        """Every member measured."""
        return [*self.local, self.satellite]

    def _record_speeds(self, member: Member) -> None:
        """Instrumentation only: note every speed the coordinator sets, then set it."""
        original = member.async_set_speed
        speeds = self.speeds_set[member.member_id]

        async def recorded(speed: float) -> None:
            speeds.append(speed)
            await original(speed)

        member.async_set_speed = recorded  # type: ignore[method-assign]

    def _record_starts(self, member: LocalMember) -> None:
        """Instrumentation only: how late mpv's unpause returned, against the chosen instant."""
        original = member.mpv._start_at
        starts = self.starts[member.member_id]

        def timed(instant: float) -> None:
            original(instant)
            starts.append((instant, (time.monotonic() - instant) * 1000))

        member.mpv._start_at = timed  # type: ignore[method-assign]

    def start(self) -> None:
        """Sample until stop()."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)

    def _errors_at(self, t: float, members: list[LocalMember]) -> dict[str, float]:
        """Local members' fitted errors against the timeline at server time t."""
        timeline = self.room.coordinator.timeline
        errors = {}
        for member in members:
            if member.generation == timeline.generation and (measured := member.measure(t)):
                expected = timeline.shifted(member.offset).position_at(measured[0])
                errors[member.member_id] = measured[1] - expected
        return errors

    def sample(self) -> None:
        """The local members now, and the satellite's report if a new one came."""
        now = server_time()
        timeline = self.room.coordinator.timeline
        playing = timeline.state is TimelineState.PLAYING
        if playing and now >= timeline.server_time and (errors := self._errors_at(now, self.local)):
            self.recording.local.append(Sample(now, timeline.generation, errors))
        report, member = self.satellite.report, self.satellite
        if report is None or report is self._last_report:
            return
        self._last_report = report
        self.reported_speeds.append(report.speed)
        offset = member.clock_offset or 0.0  # the estimate this report was converted with
        if member.clock_rtt is not None:
            self.recording.clock.append((report.server_time, offset, member.clock_rtt))
        if report.generation != timeline.generation or not playing:
            return
        # One machine, one CLOCK_MONOTONIC: the report's true instant is its local time, so the
        # clock estimate's error counts in the satellite's error, as it does in what is heard.
        for at, samples in (
            (report.server_time - offset, self.recording.satellite),
            (report.server_time, self.recording.satellite_reported),
        ):
            if at >= timeline.server_time:
                errors = self._errors_at(at, self.local)
                expected = timeline.shifted(member.offset).position_at(at)
                errors[member.member_id] = report.position - expected
                samples.append(Sample(at, timeline.generation, errors))

    def phase(self, label: str, kind: str) -> None:
        """Note the barrier that just started (the call returns at T0)."""
        timeline = self.room.coordinator.timeline
        assert timeline.state is TimelineState.PLAYING
        self.recording.phases.append(
            Phase(label, kind, timeline.generation, timeline.server_time, timeline.position)
        )


# The run -----------------------------------------------------------------------------------


async def run_phases(hass: HomeAssistant, recorder: Recorder, track_id: str) -> None:
    """Start, 3 seeks, pause/resume, a stall: each followed by playback while sampling."""

    async def call(service: str, **data: Any) -> None:
        await hass.services.async_call(
            "media_player", service, {"entity_id": ROOM_ENTITY, **data}, blocking=True
        )

    await call("play_media", media_content_id=f"track:{track_id}", media_content_type="music")
    recorder.phase("start", "start")
    await asyncio.sleep(FIRST_PLAY_SECONDS)
    for index, (position, seconds) in enumerate(SEEKS, 1):
        await call("media_seek", seek_position=position)
        recorder.phase(f"seek {index}", "seek")
        await asyncio.sleep(seconds)
    await call("media_pause")
    await asyncio.sleep(PAUSED_SECONDS)
    await call("media_play")
    recorder.phase("resume", "resume")
    await asyncio.sleep(BEFORE_STALL_SECONDS)
    await stall(recorder)
    await asyncio.sleep(AFTER_STALL_SECONDS)


async def stall(recorder: Recorder) -> None:
    """Block one local member's player for 300 ms; the room's clock goes on."""
    member = next(m for m in recorder.local if m.member_id == STALLED)
    start = server_time()
    await member.mpv.async_pause()
    await asyncio.sleep(STALL_SECONDS)
    await member.mpv.async_play()
    recorder.recording.stall = (member.member_id, start, server_time())


async def test_sync(
    hass: HomeAssistant, aiohttp_client: Any, hass_access_token: str, tmp_path: Path
) -> None:
    """Measure (collected only when this file is run as a script)."""
    library = tmp_path / "library"
    make_track(library / "Bench" / "01 Sync.wav", TRACK_SECONDS, freq=440, title="Sync")
    subentry = room_subentry(local=[(device, 0.0) for device in LOCAL_DEVICES])
    entry = await setup_room_entry(hass, library, subentry)
    room: Room = entry.runtime_data.rooms[ROOM_ID]
    local = [m for m in room.coordinator.members.values() if isinstance(m, LocalMember)]
    assert [m.member_id for m in local] == [f"local:{device}" for device in LOCAL_DEVICES]
    track_id = entry.runtime_data.catalog.playlists()[0].track_ids[0]
    server = await aiohttp_client(hass.http.app)  # a real socket on 127.0.0.1
    url = str(server.make_url("/")).rstrip("/")
    log = tmp_path / "satellite.log"
    process = await start_satellite(url, hass_access_token, log)
    try:
        satellite = await wait_for_satellite(room, process, log)
        recorder = Recorder(room, local, satellite)
        recorder.start()
        try:
            await run_phases(hass, recorder, track_id)
        finally:
            await recorder.stop()
        assert satellite.available, "the satellite left during the run"
    finally:
        await stop_satellite(process)
        satellite_log = read_log(log)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    recording = recorder.recording
    assert recording.local, "no local measurement"
    assert recording.satellite, "no satellite report measured"
    assert len(recording.phases) == 5
    report(recorder, conditions(local, recording), satellite_log)


# Report ------------------------------------------------------------------------------------


def conditions(local: list[LocalMember], recording: Recording) -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.release()}",
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "mpv": local[0].mpv.mpv_version,
        "audio": "mpv null output everywhere ("
        + ", ".join(
            f"{m.member_id}: {'null fallback' if m.mpv.null_fallback else 'device opened'}"
            for m in local
        )
        + "; satellite --ao null)",
        "members": "3 local mpv + 1 reference satellite (subprocess)",
        "transport": "HA WebSocket API over loopback TCP (aiohttp test server on 127.0.0.1)",
        "track": f"{TRACK_SECONDS:g} s 8 kHz mono WAV",
        "phases": [f"{p.label} at {p.position:g} s" for p in recording.phases]
        + [f"stall {STALLED} {STALL_SECONDS * 1000:g} ms"],
        "sampling": f"locals every {SAMPLE_SECONDS * 1000:g} ms, satellite at each report",
        "asyncio_debug": asyncio.get_running_loop().get_debug(),
    }


def speed_figures(recorder: Recorder) -> dict[str, dict[str, Any]]:
    """Per member: the largest |speed - 1| (%), how many speeds were set, how many seeks."""
    rows: dict[str, dict[str, Any]] = {}
    for member in recorder.members:
        speeds = [s for t, _, s in member.errors if t >= recorder.started]
        speeds += recorder.speeds_set[member.member_id]
        if member is recorder.satellite:
            speeds += recorder.reported_speeds
        rows[SATELLITE_NAME if member is recorder.satellite else member.member_id] = {
            "max_dev_%": max((abs(s - 1) * 100 for s in speeds), default=0.0),
            "changes": len(recorder.speeds_set[member.member_id]),
            "seeks": member.seeks - recorder.seeks_before[member.member_id],
        }
    return rows


def print_phases(recording: Recording, phases: list[dict[str, Any]]) -> None:
    """First measurement after each barrier and the time to converge."""
    members = [*recording.local_ids, recording.satellite_id]
    names = {recording.satellite_id: SATELLITE_NAME}
    print("\nafter each barrier: first measurement per member (ms after T0 / error ms)")
    header = "".join(f"{names.get(m, m):>20s}" for m in members)
    print(f"  {'':22s}{header}{'converge all':>14s}{'locals':>9s}")
    for phase, figures in zip(recording.phases, phases, strict=True):
        cells = ""
        for member in members:
            first = figures["first"].get(member)
            cell = "-" if first is None else f"{first[0]:.0f} / {first[1]:+.3f}"
            cells += f"{cell:>20s}"
        print(
            f"  {phase.label:22s}{cells}{fmt(figures['converge_ms'], 0):>14s}"
            f"{fmt(figures['converge_local_ms'], 0):>9s}"
        )


def start_spreads(recorder: Recorder) -> list[float]:
    """Per barrier: last minus first local unpause (ms), from the worker threads' clocks."""
    by_instant: dict[float, list[float]] = {}
    for starts in recorder.starts.values():
        for instant, late in starts:
            by_instant.setdefault(instant, []).append(late)
    return [max(v) - min(v) for v in by_instant.values() if len(v) == len(recorder.local)]


def print_starts(recorder: Recorder) -> None:
    """How late each local unpause returned, and the spread of one barrier's unpauses."""
    rows = {m: summary(late for _, late in s) for m, s in recorder.starts.items()}
    rows["spread in a barrier"] = summary(start_spreads(recorder))
    print_table(
        "local starts: unpause returned after the instant, ms (mpv worker thread)",
        rows,
        ["n", "p50", "p95", "p99", "max"],
    )


def print_goals(result: dict[str, Any]) -> None:
    """Each goal, met or not."""
    print("\ngoals:")
    for key, goal, must in GOALS:
        value = result.get(key)
        met = value is not None and value <= goal
        line = f"  {key:18s} {fmt(value)}  goal <= {goal:g}: {'met' if met else 'NOT met'}"
        if must is not None:
            reached = value is not None and value <= must
            line += f"; must <= {must:g}: {'met' if reached else 'NOT met'}"
        print(line)


def report(recorder: Recorder, where: dict[str, Any], satellite_log: str) -> None:
    """Print the conditions and figures; the last line is RESULT {json}."""
    recording = recorder.recording
    figures = steady_figures(recording)
    phases = [phase_figures(recording, phase) for phase in recording.phases]
    stalled = stall_figures(recording)
    speeds = speed_figures(recorder)
    clock_ms = [abs(offset) * 1000 for _, offset, _ in recording.clock]
    rtt_ms = [rtt * 1000 for _, _, rtt in recording.clock]

    print("\nconditions:", json.dumps(where))
    columns = ["n", "p50", "p95", "p99", "max"]
    print_table(
        "steady-state error between members, ms",
        {
            "local vs local (spread of 3)": figures["local"],
            "satellite vs locals (max |diff|)": figures["satellite"],
            "satellite - mean(locals), signed": figures["satellite_bias"],
            "satellite vs locals, as reported": figures["satellite_reported"],
        },
        columns,
    )
    named = {
        SATELLITE_NAME if m == recording.satellite_id else m: v
        for m, v in figures["members"].items()
    }
    print_table(
        "steady-state error of each member against the timeline, ms (|error|; signed median)",
        named,
        ["n", "signed_p50", "p50", "p95", "p99", "max"],
    )
    print_table(
        "satellite clock-offset estimate, ms (true offset 0)",
        {
            "|offset|": summary(clock_ms, 4),
            "offset, signed": summary((o * 1000 for _, o, _ in recording.clock), 4),
            "rtt": summary(rtt_ms, 4),
        },
        columns,
    )
    print_phases(recording, phases)
    if stalled is not None:
        print(
            f"\nstall: {stalled['member']} blocked {stalled['stall_ms']:.0f} ms; back within 5 ms"
            f" (for 1 s) after {fmt(stalled['recover_ms'], 0)} ms; max |error| in the window"
            f" (stall + 3 s): stalled {fmt(stalled['stalled_max_ms'])} ms, other locals"
            f" {fmt(stalled['others_max_ms'])} ms, satellite {fmt(stalled['satellite_max_ms'])} ms"
        )
    print_table(
        "speed trims (max |speed - 1| %, speeds set, seeks/realignments)",
        speeds,
        ["max_dev_%", "changes", "seeks"],
    )
    print_starts(recorder)
    warnings = [line for line in satellite_log.splitlines() if " WARNING " in line]
    print(f"\nsatellite log: {len(warnings)} warnings")
    for line in warnings[:10]:
        print("  " + line)

    seeks = [f for p, f in zip(recording.phases, phases, strict=True) if p.kind == "seek"]
    barriers = [f for p, f in zip(recording.phases, phases, strict=True) if p.kind != "start"]
    converge = [f["converge_ms"] for f in barriers]
    converge_local = [f["converge_local_ms"] for f in barriers]
    result = {
        "local_p95_ms": figures["local"].get("p95"),
        "satellite_p95_ms": figures["satellite"].get("p95"),
        "seek_first_ms": max_or_none(f["first_max_ms"] for f in seeks),
        "converge_ms": None if None in converge else max_or_none(converge),
        "clock_err_p95_ms": summary(clock_ms, 4).get("p95"),
        "max_speed_dev_pct": round(max(row["max_dev_%"] for row in speeds.values()), 4),
        "local_p50_ms": figures["local"].get("p50"),
        "local_max_ms": figures["local"].get("max"),
        "satellite_p50_ms": figures["satellite"].get("p50"),
        "satellite_max_ms": figures["satellite"].get("max"),
        "satellite_bias_ms": figures["satellite_bias"].get("p50"),
        "stall_recover_ms": None if stalled is None else stalled["recover_ms"],
        "converge_local_ms": None if None in converge_local else max_or_none(converge_local),
        "start_spread_max_ms": max_or_none(start_spreads(recorder)),
    }
    result = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
    print_goals(result)
    print("RESULT " + json.dumps(result))


def max_or_none(values: Any) -> float | None:
    """Largest value, None when one is unknown or there are none."""
    data = list(values)
    return None if not data or None in data else max(data)
