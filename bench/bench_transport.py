"""Transport latency: media_player service call -> libmpv reports it done.

play  = play_media(track)  -> mpv `playback-restart` event
pause = media_pause        -> mpv `pause` property becomes true
seek  = media_seek         -> mpv `playback-restart` event

Timestamps are taken with time.monotonic() in mpv's own callback thread. Runs a real Home
Assistant core (the test harness's `hass` fixture) with real libmpv on the null audio output.

Run:  .venv/bin/python bench/bench_transport.py [--rounds 200]
The last line is `RESULT {json}` (milliseconds).
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    import argparse

    from _harness import run_under_pytest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    run_under_pytest(__file__, {"BENCH_ROUNDS": str(parser.parse_args().rounds)})

import asyncio
import json
import os
from pathlib import Path
import platform
import statistics
import time
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
import pytest

# Imported before the hass fixture runs, or HA's test config would shadow custom_components.
from tests.audio import write_wav
from tests.conftest import box_entry

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))

# tests/conftest.py is not loaded here: enable custom integrations for this file.
pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """Median, p95, p99 and max in ms."""
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
    }


class MpvWatch:
    """Timestamps of mpv events and pause changes, taken in mpv's thread, then signalled."""

    def __init__(self, mpv: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.restart = asyncio.Event()
        self.paused = asyncio.Event()
        self.at = 0.0
        mpv.register_event_callback(self._on_event)
        mpv.observe_property("pause", self._on_pause)

    def _mark(self, flag: asyncio.Event) -> None:
        self.at = time.monotonic()
        self._loop.call_soon_threadsafe(flag.set)

    def _on_event(self, event: Any) -> None:
        if event.as_dict().get("event") == b"playback-restart":
            self._mark(self.restart)

    def _on_pause(self, _name: str, value: Any) -> None:
        if value:
            self._mark(self.paused)


async def test_transport(hass: Any, tmp_path: Path) -> None:
    """Measure (collected only when this file is run as a script)."""
    library = tmp_path / "library"
    for index in range(3):
        write_wav(library / "Album" / f"{index + 1:02d} track.wav", 60.0, freq=300 + 50 * index)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    box = entry.runtime_data
    track_ids = box.catalog.playlists()[0].track_ids
    watch = MpvWatch(box.player.output.mpv, hass.loop)
    target = {ATTR_ENTITY_ID: "media_player.music_box"}

    async def timed(service: str, flag: asyncio.Event, **data: Any) -> float:
        flag.clear()
        start = time.monotonic()
        await hass.services.async_call("media_player", service, {**target, **data}, blocking=True)
        async with asyncio.timeout(10):
            await flag.wait()
        return (watch.at - start) * 1000

    play, pause, seek = [], [], []
    for index in range(ROUNDS):
        media = f"track:{track_ids[index % len(track_ids)]}"
        play.append(
            await timed(
                "play_media",
                watch.restart,
                media_content_id=media,
                media_content_type="music",
            )
        )
        seek.append(await timed("media_seek", watch.restart, seek_position=5 + index % 40))
        pause.append(await timed("media_pause", watch.paused))
        await hass.services.async_call("media_player", "media_play", target, blocking=True)
    await hass.config_entries.async_unload(entry.entry_id)

    results = {"play": summary(play), "pause": summary(pause), "seek": summary(seek)}
    conditions = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "rounds": ROUNDS,
        "audio": "libmpv null output, 8 kHz mono WAV, 60 s tracks",
    }
    print("\nconditions:", json.dumps(conditions))
    for name, figures in results.items():
        print(f"{name:6s} ms: {json.dumps(figures)}")
    print(
        "RESULT "
        + json.dumps(
            {
                "play_p95_ms": results["play"]["p95"],
                "pause_p95_ms": results["pause"]["p95"],
                "seek_p95_ms": results["seek"]["p95"],
            }
        )
    )
