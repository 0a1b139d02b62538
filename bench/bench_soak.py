"""Soak: repeat-all playback with a WebSocket subscriber; memory and the position stream's cadence.

A real Home Assistant core (the test harness's `hass` fixture, run by bench/_harness.py) with its
real WebSocket API (`hass_ws_client`, loopback); the box plays a queue of short generated WAVs on
repeat all through real libmpv on the null audio output, and the volume steps now and then (each
step is a `player` event, as a user's would be).

Measured:
- RSS of the HA process (/proc/self/status VmRSS) every 10 s; the growth counts from the end of
  the first minute (imports, caches and mpv's buffers settle during it);
- position events per second and the gaps between consecutive ones, from the events' own
  `server_time` stamps (the contract: one every 200 ms while playing, never closer than 150 ms);
- Python objects alive (gc) at the end of the first minute and at the end; with --trace, the
  tracemalloc lines that grew the most over the same span (slower: tracing costs CPU).

Run:  .venv/bin/python bench/bench_soak.py [--minutes 10] [--queue 40] [--track-seconds 4]
          [--volume-hz 0.5] [--trace]
The last line is `RESULT {json}`.
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    import argparse

    from _harness import run_under_pytest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--queue", type=int, default=40, help="tracks in the queue")
    parser.add_argument("--track-seconds", type=float, default=4.0)
    parser.add_argument("--volume-hz", type=float, default=0.5, help="volume steps per second")
    parser.add_argument("--trace", action="store_true", help="tracemalloc: what grows")
    args = parser.parse_args()
    run_under_pytest(
        __file__,
        {
            "BENCH_MINUTES": str(args.minutes),
            "BENCH_QUEUE": str(args.queue),
            "BENCH_TRACK_SECONDS": str(args.track_seconds),
            "BENCH_VOLUME_HZ": str(args.volume_hz),
            "BENCH_TRACE": "1" if args.trace else "",
        },
    )

import asyncio
from collections import Counter
import ctypes
from datetime import datetime
import gc
import itertools
import json
import os
from pathlib import Path
import platform
import statistics
import time
import tracemalloc
from typing import Any

from homeassistant.components.media_player import RepeatMode
import pytest

from bench._harness import cpu_model

# Imported before the hass fixture runs, or HA's test config would shadow custom_components.
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.playback.player import PlayState
from tests.audio import write_wav
from tests.conftest import box_entry

MINUTES = float(os.environ.get("BENCH_MINUTES", "10"))
QUEUE = int(os.environ.get("BENCH_QUEUE", "40"))
TRACK_SECONDS = float(os.environ.get("BENCH_TRACK_SECONDS", "4"))
VOLUME_HZ = float(os.environ.get("BENCH_VOLUME_HZ", "0.5"))
TRACE = bool(os.environ.get("BENCH_TRACE"))
FILES = 8
WARMUP = min(60.0, MINUTES * 20)  # seconds before the memory baseline (a third of a short run)
SAMPLE_SECONDS = 10.0

# tests/conftest.py is not loaded here: enable custom integrations for this file.
pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override the harness fixture of this name: production HA runs without asyncio debug."""
    asyncio.get_event_loop().set_debug(False)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux), else -1."""
    try:
        for line in Path("/proc/self/status").read_text("ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """Count, min, median, p95, p99 and max."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(min(values), 2),
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
    }


class Subscriber:
    """One WebSocket subscription: position stamps and counts per event type."""

    def __init__(self, ws: Any, entry_id: str) -> None:
        self.ws = ws
        self.entry_id = entry_id
        self.stamps: list[datetime] = []
        self.types: Counter[str] = Counter()
        self.bytes = 0
        self.counting = False

    async def run(self) -> None:
        await self.ws.send_json_auto_id({"type": f"{DOMAIN}/subscribe", "entry_id": self.entry_id})
        while True:
            msg = await self.ws.receive()
            if msg.type.name != "TEXT":
                return
            data = json.loads(msg.data)
            if data.get("type") != "event" or not self.counting:
                continue
            event = data["event"]
            self.types[event["type"]] += 1
            self.bytes += len(msg.data)
            if event["type"] == "position" and event["data"]["playing"]:
                self.stamps.append(datetime.fromisoformat(event["server_time"]))


def object_counts() -> Counter[str]:
    """Live objects tracked by the garbage collector, by type name."""
    gc.collect()
    return Counter(type(obj).__name__ for obj in gc.get_objects())


class Mallinfo(ctypes.Structure):
    """glibc's mallinfo2: what the C heap (Python's big blocks, libmpv, ffmpeg) holds."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def process_figures() -> dict[str, float]:
    """RSS and threads (/proc), and the C heap's bytes in use and held (glibc), in MB."""
    figures: dict[str, float] = {"rss": rss_mb()}
    try:
        status = Path("/proc/self/status").read_text("ascii")
        figures["threads"] = float(
            next(ln for ln in status.splitlines() if ln.startswith("Threads:")).split()[1]
        )
    except (OSError, StopIteration):
        pass
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = Mallinfo
        info = libc.mallinfo2()
        figures["heap_used"] = (info.uordblks + info.hblkhd) / 2**20
        figures["heap_held"] = (info.arena + info.hblkhd) / 2**20
    except (OSError, AttributeError):
        pass
    return {key: round(value, 1) for key, value in figures.items()}


async def start_box(hass: Any, tmp_path: Path) -> Any:
    """A box playing a queue of QUEUE short tracks on repeat all; return its config entry."""
    library = tmp_path / "library"
    for index in range(FILES):
        write_wav(library / "Soak" / f"{index + 1:02d}.wav", TRACK_SECONDS, freq=300 + 40 * index)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    box = entry.runtime_data
    tracks = [box.catalog.track(t) for t in box.catalog.playlists()[0].track_ids]
    await box.player.async_set_repeat(RepeatMode.ALL)
    queue = list(itertools.islice(itertools.cycle(tracks), QUEUE))
    await box.player.async_play_tracks(queue, playlist_id=None)
    return entry


class Soak:
    """Samples taken while the box plays: memory every 10 s, objects at the end of the warm-up."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.baseline_objects: Counter[str] = Counter()
        self.end_objects: Counter[str] = Counter()
        self.trace_start: tracemalloc.Snapshot | None = None
        self.growth_lines: list[str] = []

    async def run(self, player: Any) -> None:
        """Play for MINUTES, stepping the volume now and then."""
        start = time.monotonic()
        next_sample = volume_at = 0.0
        while (elapsed := time.monotonic() - start) < MINUTES * 60:
            if elapsed >= next_sample:
                self.samples.append((elapsed, process_figures()))
                next_sample += SAMPLE_SECONDS
            if not self.baseline_objects and elapsed >= WARMUP:
                self.baseline_objects = object_counts()
                if TRACE:
                    tracemalloc.start(8)
                    self.trace_start = tracemalloc.take_snapshot()
            if VOLUME_HZ > 0 and elapsed >= volume_at:
                await player.async_set_volume(0.41 if round(player.volume, 2) == 0.4 else 0.4)
                volume_at += 1 / VOLUME_HZ
            await asyncio.sleep(0.5)
        self.samples.append((time.monotonic() - start, process_figures()))
        self.end_objects = object_counts()
        if self.trace_start is not None:
            stats = tracemalloc.take_snapshot().compare_to(self.trace_start, "traceback")
            for stat in stats[:12]:
                frames = " <- ".join(
                    f"{f.filename.rsplit('/')[-1]}:{f.lineno}" for f in stat.traceback
                )
                self.growth_lines.append(
                    f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d}  {frames}"
                )
            tracemalloc.stop()

    def growth(self, key: str) -> float:
        """Growth of one figure from the end of the warm-up to the end."""
        after = [figures[key] for at, figures in self.samples if at >= WARMUP and key in figures]
        return round(after[-1] - after[0], 1) if len(after) > 1 else float("nan")


async def test_soak(hass: Any, tmp_path: Path, hass_ws_client: Any) -> None:
    """Measure (collected only when this file is run as a script)."""
    entry = await start_box(hass, tmp_path)
    box = entry.runtime_data
    subscriber = Subscriber(await hass_ws_client(), entry.entry_id)
    reader = hass.async_create_background_task(subscriber.run(), "soak subscriber")
    subscriber.counting = True
    starts = box.player.track_starts
    soak = Soak()
    await soak.run(box.player)
    subscriber.counting = False
    assert box.player.state is PlayState.PLAYING
    track_changes = box.player.track_starts - starts
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    reader.cancel()
    report(soak, subscriber, track_changes)


def report(soak: Soak, subscriber: Subscriber, track_changes: int) -> None:
    """Print the conditions and figures; the last line is RESULT {json}."""
    stamps = subscriber.stamps
    positions_per_s = (len(stamps) - 1) / (stamps[-1] - stamps[0]).total_seconds()
    gaps = [
        (later - earlier).total_seconds() * 1000 for earlier, later in itertools.pairwise(stamps)
    ]
    load = [round(x, 2) for x in os.getloadavg()]
    conditions = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.release()}",
        "load_1_5_15": load,
        "python": platform.python_version(),
        "minutes": MINUTES,
        "queue": QUEUE,
        "track_seconds": TRACK_SECONDS,
        "volume_steps_per_s": VOLUME_HZ,
        "track_changes": track_changes,
        "tracemalloc": TRACE,
        "audio": "libmpv null output, 8 kHz mono WAV, repeat all",
    }
    print("\nconditions:", json.dumps(conditions))
    for at, figures in soak.samples:
        print(f"  {at:6.0f} s  {json.dumps(figures)}")
    growth = {key: soak.growth(key) for key in ("rss", "heap_used", "heap_held", "threads")}
    print(f"growth after the first {WARMUP:.0f} s (MB, threads):", json.dumps(growth))
    print("events received by type:", json.dumps(dict(subscriber.types)))
    print(f"bytes received: {subscriber.bytes}")
    print(f"position events per s: {positions_per_s:.2f}")
    print("position gaps ms:", json.dumps(summary(gaps)))
    print(
        "gc objects alive: after the warm-up",
        sum(soak.baseline_objects.values()),
        "at the end",
        sum(soak.end_objects.values()),
        "grew most:",
        json.dumps(dict((soak.end_objects - soak.baseline_objects).most_common(6))),
    )
    if soak.growth_lines:
        print("tracemalloc, biggest growth since the warm-up:")
        print("\n".join(soak.growth_lines))
    result = {
        "rss_growth_mb": growth["rss"],
        "positions_per_s": round(positions_per_s, 2),
        "gap_p50_ms": summary(gaps).get("p50"),
        "gap_p95_ms": summary(gaps).get("p95"),
        "gap_min_ms": summary(gaps).get("min"),
        "gaps_under_149_ms": sum(gap < 149 for gap in gaps),  # 1 ms: two clocks, see the README
        "minutes": MINUTES,
        "load_1": load[0],
    }
    print("RESULT " + json.dumps(result))
