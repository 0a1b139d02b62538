"""Satellite churn while a room plays: does Home Assistant's memory grow with joins and leaves?

A real Home Assistant core (the test harness's `hass`, run by bench/_harness.py) serving its real
WebSocket API on a loopback socket; a room with one local libmpv member (null output) plays 8
generated tracks of --track-seconds each on repeat all. Satellites speak the protocol by hand
(no audio of their own, so the process measured is Home Assistant's alone): each connects,
joins, takes a clock sample every 0.2 s, answers `state` and `prepare` with `ready`, and after
--life seconds leaves (`room/leave`) or drops its connection without a word (every other one).
A new one comes every --every seconds.

Measured: RSS of the process every 10 s (growth counted after the warm-up), glibc's C heap,
threads (and those started during the run, by name), the satellites still members at the end
(a dropped connection keeps its seat up to a minute), and what malloc_trim(0) gives back at
the end (freed C heap that glibc kept).

Run:  .venv/bin/python bench/bench_churn.py [--minutes 2.5] [--every 0.5] [--life 3]
          [--track-seconds 30]
The last line is `RESULT {json}`.
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    import argparse

    from _harness import run_under_pytest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.5)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between satellites")
    parser.add_argument("--life", type=float, default=3.0, help="seconds a satellite stays")
    parser.add_argument("--track-seconds", type=float, default=30.0)
    args = parser.parse_args()
    run_under_pytest(
        __file__,
        {
            "BENCH_MINUTES": str(args.minutes),
            "BENCH_EVERY": str(args.every),
            "BENCH_LIFE": str(args.life),
            "BENCH_TRACK_SECONDS": str(args.track_seconds),
        },
    )

import asyncio
from collections import Counter
import contextlib
import ctypes
import json
import os
from pathlib import Path
import platform
import time
from typing import Any

from aiohttp import ClientSession, WSMsgType
from homeassistant.setup import async_setup_component
import pytest

from bench._harness import cpu_model
from bench.bench_soak import process_figures

# Imported before the hass fixture runs, or HA's test config would shadow custom_components.
from custom_components.open_music_box.const import DOMAIN
from tests.audio import write_wav
from tests.helpers.rooms import (
    ROOM_ID,
    call,
    play_long,
    room_of,
    room_subentry,
    setup_room_entry,
)

MINUTES = float(os.environ.get("BENCH_MINUTES", "2.5"))
EVERY = float(os.environ.get("BENCH_EVERY", "0.5"))
LIFE = float(os.environ.get("BENCH_LIFE", "3"))
TRACK_SECONDS = float(os.environ.get("BENCH_TRACK_SECONDS", "30"))
WARMUP = min(60.0, MINUTES * 20)
SAMPLE_SECONDS = 10.0

pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override the harness fixture of this name: production HA runs without asyncio debug."""
    asyncio.get_event_loop().set_debug(False)


class Satellite:
    """One satellite speaking the protocol by hand over its own WebSocket connection."""

    def __init__(self, session: ClientSession, url: str, token: str, index: int) -> None:
        self.session, self.url, self.token, self.index = session, url, token, index
        self.next_id = 0

    async def send(self, ws: Any, msg: dict[str, Any]) -> int:
        self.next_id += 1
        await ws.send_json({"id": self.next_id, **msg})
        return self.next_id

    async def run(self) -> None:
        async with self.session.ws_connect(self.url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            await ws.receive_json()  # auth_ok
            join = await self.send(
                ws, {"type": f"{DOMAIN}/room/join", "room_id": ROOM_ID, "name": f"s{self.index}"}
            )
            member_id = None
            generation = 0
            ends = time.monotonic() + LIFE
            next_time = 0.0
            while (now := time.monotonic()) < ends:
                if now >= next_time:
                    await self.send(ws, {"type": f"{DOMAIN}/time"})
                    next_time = now + 0.2
                try:
                    msg = await ws.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if msg.type is not WSMsgType.TEXT:
                    return
                data = json.loads(msg.data)
                if data.get("id") == join and data["type"] == "result":
                    member_id = data["result"]["member_id"]
                elif data.get("type") == "event" and member_id is not None:
                    event = data["event"]
                    if event["type"] in ("prepare", "state"):
                        timeline = event.get("timeline", event)
                        generation = timeline.get("generation", generation)
                        await self.send(
                            ws,
                            {
                                "type": f"{DOMAIN}/room/ready",
                                "room_id": ROOM_ID,
                                "member_id": member_id,
                                "generation": generation,
                            },
                        )
            if member_id is not None and self.index % 2:
                await self.send(
                    ws,
                    {"type": f"{DOMAIN}/room/leave", "room_id": ROOM_ID, "member_id": member_id},
                )
                await ws.receive(timeout=1)
            # else: the connection just drops


def note_threads(seen: dict[str, str]) -> None:
    """Add the process's threads not seen yet (id -> name) to `seen`."""
    for tid in os.listdir("/proc/self/task"):
        if tid not in seen:
            with contextlib.suppress(OSError):  # ended meanwhile
                seen[tid] = Path(f"/proc/self/task/{tid}/comm").read_text("utf-8").strip()


async def test_churn(
    hass: Any, tmp_path: Path, aiohttp_client: Any, hass_access_token: str, socket_enabled: None
) -> None:
    """Measure (collected only when this file is run as a script)."""
    assert await async_setup_component(hass, "websocket_api", {})
    server = await aiohttp_client(hass.http.app)
    url = str(server.make_url("/api/websocket"))
    library = tmp_path / "library"
    for index in range(8):  # the Long playlist of play_long
        write_wav(library / "Long" / f"{index + 1:02d}.wav", TRACK_SECONDS, freq=300 + 40 * index)
    entry = await setup_room_entry(hass, library, room_subentry(local=[("null", 0.0)]))
    await play_long(hass, entry)
    await call(hass, "repeat_set", {"repeat": "all"})
    room = room_of(entry)
    samples: list[tuple[float, dict[str, float]]] = []
    tasks: set[asyncio.Task[None]] = set()
    failures = 0
    seen_threads: dict[str, str] = {}
    async with ClientSession() as session:
        start = time.monotonic()
        next_sample = next_satellite = 0.0
        index = 0
        while (elapsed := time.monotonic() - start) < MINUTES * 60:
            if elapsed >= next_sample:
                samples.append((elapsed, process_figures()))
                next_sample += SAMPLE_SECONDS
            if elapsed >= next_satellite:
                index += 1
                task = asyncio.create_task(Satellite(session, url, hass_access_token, index).run())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_satellite += EVERY
            note_threads(seen_threads)
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = sum(isinstance(result, BaseException) for result in results)
    await asyncio.sleep(2)
    # Dropped connections keep their seat up to a minute (REJOIN_SECONDS): count what is left.
    left = len(room.satellites())
    samples.append((time.monotonic() - start, process_figures()))
    # Freed but kept by glibc, or alive? malloc_trim gives back what is free in every arena.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    trimmed = process_figures()
    print("after malloc_trim(0):", json.dumps(trimmed))
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    def growth(key: str) -> float:
        after = [f[key] for at, f in samples if at >= WARMUP and key in f]
        return round(after[-1] - after[0], 1) if len(after) > 1 else float("nan")

    load = [round(x, 2) for x in os.getloadavg()]
    conditions = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "load_1_5_15": load,
        "minutes": MINUTES,
        "satellite_every_s": EVERY,
        "satellite_life_s": LIFE,
        "satellites": index,
        "track_seconds": TRACK_SECONDS,
        "track_starts": room.player.track_starts,
    }
    print("\nconditions:", json.dumps(conditions))
    for at, figures in samples:
        print(f"  {at:6.0f} s  {json.dumps(figures)}")
    result = {
        "rss_growth_mb": growth("rss"),
        "heap_used_growth_mb": growth("heap_used"),
        "heap_held_growth_mb": growth("heap_held"),
        "threads_growth": growth("threads"),
        "satellites": index,
        "satellites_left": left,
        "failed": failures,
        "minutes": MINUTES,
        "rss_after_trim_mb": round(trimmed["rss"] - samples[-1][1]["rss"], 1),
        "load_1": load[0],
    }
    # Threads started during the run, by name (FFmpeg's unnamed ones carry their creator's).
    print("threads seen:", sorted(Counter(seen_threads.values()).items()))
    print("RESULT", json.dumps(result))
