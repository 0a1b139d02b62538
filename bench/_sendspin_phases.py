"""bench_sync_output.py's hook for its Sendspin members: start and calibrate, then figures.

The calibration phase plays with every offset at 0, measures each Sendspin member against the
local mpv members from the recording (bench/_sendspin_figures.py) and sets its static offset
with `rooms/set_offset`; the room's run that follows is measured with those offsets.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

from homeassistant.core import HomeAssistant
import numpy as np

from bench._output_figures import Run
from bench._sendspin_figures import (
    analyse_members,
    browser_view,
    calibration,
    corrections_ms,
    daemon_view,
    report_members,
    reported_latency_ms,
)
from bench._sendspin_members import BIAS_FIXED, SendspinMembers

CALIBRATION_SECONDS = 12.0  # of play: 5 s settle, then 0.1 s windows
WARM_UP_SECONDS = 4.0
ROOM_ENTITY = "media_player.living_room"


async def calibrate(
    hass: HomeAssistant,
    room: Any,
    track_id: str,
    rig: Any,
    *,
    names: list[str],
    members: SendspinMembers,
    track: Any,
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """Play with offset 0 (after a first play), measure each Sendspin member against the local
    ones from the recording, set its static offset.

    Returns the phase's figures and the offsets applied (ms); the next barrier uses them.
    """

    run = Run()
    entity = ROOM_ENTITY

    async def play() -> None:
        await hass.services.async_call(
            "media_player",
            "play_media",
            {
                "entity_id": entity,
                "media_content_id": f"track:{track_id}",
                "media_content_type": "music",
            },
            blocking=True,
        )

    await hass.services.async_call(
        "media_player", "volume_set", {"entity_id": entity, "volume_level": 1.0}, blocking=True
    )
    # A first play, not measured: a browser's first stream after it connected starts with an
    # error of tens of ms that its later streams did not have (seen in two runs).
    await play()
    await asyncio.sleep(WARM_UP_SECONDS)
    await hass.services.async_call(
        "media_player", "media_stop", {"entity_id": entity}, blocking=True
    )
    await asyncio.sleep(1.0)
    rig.start_recording(members.folder / "calibration.raw")
    await asyncio.sleep(0.5)
    await play()
    timeline = room.coordinator.timeline
    run.barriers.append(("calibration", timeline.server_time, timeline.position))
    await asyncio.sleep(CALIBRATION_SECONDS)
    await hass.services.async_call(
        "media_player", "media_stop", {"entity_id": entity}, blocking=True
    )
    data = await hass.async_add_executor_job(rig.stop_recording)
    if keep := os.environ.get("BENCH_KEEP"):  # for a look afterwards
        np.savez(
            f"{keep}.calibration.npz",
            data=data,
            started=rig.record_started,
            barriers=np.array([(t0, p) for _, t0, p in run.barriers]),
        )
    before = await hass.async_add_executor_job(
        functools.partial(
            calibration, data, names, rig.record_started, track, run, members=members.names
        )
    )
    offsets = corrections_ms(before, {})
    await members.set_offsets(room.parts.entry.entry_id, room.room_id, offsets)
    return before, offsets


async def add_members(
    hass: HomeAssistant,
    members: SendspinMembers,
    hub: tuple[str, str],
    room: Any,
    track_id: str,
    *,
    rig: Any,
    names: list[str],
    track: Any,
) -> None:
    """Start the Sendspin members on their sinks, then calibrate their offsets (bench hook)."""
    if not members.names:
        return
    sinks = {n: rig.sink(names.index(n)) for n in members.names}
    await members.start(*hub, room, pulse_env=rig.env, sinks=sinks)
    await asyncio.sleep(2.0)  # the players' clock sync settles
    members.before, members.applied = await calibrate(
        hass, room, track_id, rig, names=names, members=members, track=track
    )


async def member_figures(
    members: SendspinMembers, recording: tuple[float, Any], track: Any, run: Any, names: list[str]
) -> dict[str, Any]:
    """The RESULT's Sendspin fields, printed with before/after (none without members)."""
    if not members.names:
        return {}

    loop = asyncio.get_running_loop()
    after = await loop.run_in_executor(None, analyse_members, *recording, track, run, names)
    result = report_members(
        members.before, members.applied, after, reported_latency_ms(members.daemon_log())
    )
    if members.daemon:
        view = daemon_view(members.daemon_log())
        print(f"  the daemon's own view (its log, whole run): {view}")
        result["sendspin_daemon_own_sync_error_ms"] = view.get("sync_error_median_ms")
        result["sendspin_daemon_reanchors"] = view.get("reanchors")
        result["sendspin_daemon_bias_fixed"] = BIAS_FIXED
        for line in members.daemon_log().splitlines():  # when it restarted its own output
            if "re-anchor" in line or "reanchor" in line or "Cleared audio queue" in line:
                print(f"  daemon: {line[:160]}")
    if members.browser:
        view = browser_view(members.browser_log)
        print(f"  sendspin-js's own view (its console, whole run): {view}")
        for line in members.browser_log:  # one per stream and 10 s: how it corrected
            print(f"  browser: {line[:200]}")
    return result
