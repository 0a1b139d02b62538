"""Live-state hub under load: 200 WebSocket subscribers while the box plays; 1000-event replay.

A real Home Assistant core (the test harness's `hass` fixture, run by bench/_harness.py) serves
its real WebSocket API on a loopback TCP port (aiohttp's test server on 127.0.0.1); the box plays
a generated WAV through real libmpv on the null audio output. The subscribers run in a separate
process (bench/_hub_clients.py), so neither their CPU nor their scheduling lands in HA's loop.

Measured:
- lag: event `server_time` (HA's UTC wall clock when the hub stamped it) -> receipt in the client
  process (the same machine's wall clock), for every event of every subscriber in the window;
- gaps: per subscriber, any seq that is not the previous + 1 (the subscribe snapshot included);
- events per subscriber in the window: the 200 ms position stream plus `player` events from one
  volume change a second (made through the player, as the `player/volume` command does);
- CPU seconds of the HA process (every thread: loop, executor, libmpv) per second of playback,
  with the subscribers and, for comparison, before they connect;
- replay: a client subscribes and leaves, 1000 volume changes are made, it comes back with
  since_seq: time from sending subscribe to holding all 1000 events (median of the rounds).
Diagnostics: the time hub.publish() itself takes (stamping + queueing to every connection; the
rest of the lag is HA's per-connection writers, the kernel and the client), the fan-out spread
(first -> last subscriber per event), the client process's CPU, HA's garbage-collector pauses,
and how busy the whole machine was: other work on it shows up in the tail, so run it on a quiet
machine and read `machine_busy` (ours is about (cpu_per_s + client CPU) / CPU count).

asyncio debug mode, which the test harness turns on, is turned off: production HA runs without it.
Clients negotiate permessage-deflate as browsers do; OMB_BENCH_COMPRESS=0 turns it off.

Run:  .venv/bin/python bench/bench_hub.py [--subscribers 200] [--duration 30] [--baseline 10]
          [--volume-hz 1] [--replay-rounds 5] [--client-processes 1]
About 50 s with the defaults. The last line is `RESULT {json}`.
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    import argparse

    from _harness import run_under_pytest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of playback measured")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds with no subscriber")
    parser.add_argument("--volume-hz", type=float, default=1.0, help="volume changes per second")
    parser.add_argument("--replay-rounds", type=int, default=5)
    parser.add_argument("--client-processes", type=int, default=1)
    args = parser.parse_args()
    run_under_pytest(
        __file__,
        {
            "BENCH_SUBSCRIBERS": str(args.subscribers),
            "BENCH_DURATION": str(args.duration),
            "BENCH_BASELINE": str(args.baseline),
            "BENCH_VOLUME_HZ": str(args.volume_hz),
            "BENCH_REPLAY_ROUNDS": str(args.replay_rounds),
            "BENCH_CLIENT_PROCESSES": str(args.client_processes),
        },
    )

import asyncio
from collections import defaultdict
import gc
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import time
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.setup import async_setup_component
import pytest

from bench._harness import cpu_model

# Imported before the hass fixture runs, or HA's test config would shadow custom_components.
from custom_components.open_music_box.events import REPLAY_BUFFER_SIZE
from custom_components.open_music_box.playback.player import PlayState
from tests.audio import write_wav
from tests.conftest import box_entry

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "200"))
DURATION = float(os.environ.get("BENCH_DURATION", "30"))
BASELINE = float(os.environ.get("BENCH_BASELINE", "10"))
VOLUME_HZ = float(os.environ.get("BENCH_VOLUME_HZ", "1"))
REPLAY_ROUNDS = int(os.environ.get("BENCH_REPLAY_ROUNDS", "5"))
CLIENT_PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "1"))
REPLAY_EVENTS = REPLAY_BUFFER_SIZE  # 1000: the whole buffer
CLIENTS = Path(__file__).with_name("_hub_clients.py")
STEP_TIMEOUT = 120.0

# tests/conftest.py is not loaded here: enable custom integrations for this file.
pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "socket_enabled")


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Override the harness fixture of this name: production HA runs without asyncio debug."""
    asyncio.get_event_loop().set_debug(False)


class Clients:
    """A client process driven over stdio, one JSON object per line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, token: str, *args: str) -> Clients:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLIENTS),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 28,  # the subscribers' report is one long line
            env={**os.environ, "OMB_BENCH_TOKEN": token},
        )
        return cls(process)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(STEP_TIMEOUT):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"client process ended (code {await self.process.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        async with asyncio.timeout(STEP_TIMEOUT):
            await self.process.wait()


class CpuClock:
    """CPU seconds of this process (all threads) and of the event loop's thread, per wall second."""

    def __init__(self) -> None:
        self.wall = time.monotonic()
        self.process = time.process_time()
        self.loop = time.thread_time()  # called from the loop's thread
        self.machine = machine_ticks()

    def rates(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        busy, total = (now - then for now, then in zip(machine_ticks(), self.machine, strict=True))
        return {
            "seconds": round(wall, 2),
            "cpu_per_s": round((time.process_time() - self.process) / wall, 4),
            "loop_cpu_per_s": round((time.thread_time() - self.loop) / wall, 4),
            # Every process on the machine, ours included: other work skews the figures.
            "machine_busy": round(busy / total, 3) if total else -1.0,
        }


def machine_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine since boot (Linux), else zeros."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # minus idle and iowait


async def change_volume(player: Any) -> None:
    """Change the volume (between two levels): one `player` event."""
    await player.async_set_volume(0.41 if round(player.volume, 2) == 0.40 else 0.40)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """Count, median, p95, p99 and max."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
    }


def analyse(subscribers: list[dict[str, Any]]) -> dict[str, Any]:
    """Lags (ms), fan-out spread, seq checks and counts over every subscriber's report."""
    lags: list[float] = []
    by_type: dict[str, list[float]] = defaultdict(list)
    arrivals: dict[int, list[float]] = defaultdict(list)
    for sub in subscribers:
        for seq, kind, received, sent in sub["events"]:
            lag = (received - sent) * 1000
            lags.append(lag)
            by_type[kind].append(lag)
            arrivals[seq].append(received)
    counts = [len(sub["events"]) for sub in subscribers]
    return {
        "lag_ms": summary(lags),
        "lag_ms_by_type": {kind: summary(values) for kind, values in sorted(by_type.items())},
        "fanout_spread_ms": summary([(max(t) - min(t)) * 1000 for t in arrivals.values()]),
        **{
            key: sum(sub[key] for sub in subscribers)
            for key in ("gaps", "missing", "duplicates", "no_snapshot", "closed_early")
        },
        "events_per_subscriber": {
            "min": min(counts),
            "median": statistics.median(counts),
            "max": max(counts),
        },
    }


async def play(hass: Any, box: Any) -> None:
    """Start the library's first track through the entity."""
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            ATTR_ENTITY_ID: "media_player.music_box",
            "media_content_id": f"track:{box.catalog.playlists()[0].track_ids[0]}",
            "media_content_type": "music",
        },
        blocking=True,
    )
    assert box.player.state is PlayState.PLAYING


class PublishTimer:
    """Time the hub's synchronous fan-out: stamping an event and queueing it to every subscriber.

    Instrumentation only: the instance attribute wraps the real method, which still does the work.
    """

    def __init__(self, hub: Any) -> None:
        self.durations: list[float] = []
        self.measuring = False
        publish = hub.publish

        def timed(*args: Any, **kwargs: Any) -> int:
            start = time.perf_counter()
            seq: int = publish(*args, **kwargs)
            if self.measuring:
                self.durations.append((time.perf_counter() - start) * 1000)
            return seq

        hub.publish = timed


class GcPauses:
    """Garbage-collector pauses of the HA process (any thread), while `measuring`."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, ms)
        self.measuring = False
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.measuring:
            self.pauses.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def close(self) -> dict[str, Any]:
        gc.callbacks.remove(self._on_gc)
        return {
            f"gen{gen}": summary([ms for g, ms in self.pauses if g == gen]) for gen in (0, 1, 2)
        }


async def measure_load(
    hub: Any, player: Any, token: str, url: str, entry_id: str
) -> dict[str, Any]:
    """Subscribers in CLIENT_PROCESSES processes, DURATION s of playback; figures and CPU."""
    timer, gc_pauses = PublishTimer(hub), GcPauses()
    shares = [SUBSCRIBERS // CLIENT_PROCESSES] * CLIENT_PROCESSES
    shares[0] += SUBSCRIBERS - sum(shares)
    clients = [
        await Clients.start(token, "subscribers", url, entry_id, str(share)) for share in shares
    ]
    connect_s = max([(await client.receive())["connect_s"] for client in clients])
    assert hub.subscriber_count == SUBSCRIBERS
    await asyncio.sleep(1)  # let the connection burst settle
    for client in clients:
        await client.send("start")
    timer.measuring = gc_pauses.measuring = True
    seq_start, clock = hub.seq, CpuClock()
    while (remaining := DURATION - (time.monotonic() - clock.wall)) > 0:
        if VOLUME_HZ > 0:
            await change_volume(player)
        await asyncio.sleep(min(remaining, 1 / VOLUME_HZ if VOLUME_HZ > 0 else remaining))
    cpu = clock.rates()
    timer.measuring = False
    gc_ms = gc_pauses.close()
    published = hub.seq - seq_start
    for client in clients:
        await client.send("stop")
    replies = [await client.receive() for client in clients]
    reports = [sub for reply in replies for sub in reply["subscribers"]]
    for client in clients:
        await client.close()
    assert player.state is PlayState.PLAYING
    return {
        **analyse(reports),
        "publish_ms": summary(timer.durations),
        "gc_ms": gc_ms,
        "client_cpu_per_s": round(sum(reply["cpu_per_s"] for reply in replies), 4),
        "cpu": cpu,
        "published": published,
        "connect_s": connect_s,
    }


async def measure_replay(
    hub: Any, player: Any, token: str, url: str, entry_id: str
) -> dict[str, Any]:
    """A client leaves, REPLAY_EVENTS events are published, it comes back with since_seq."""
    client = await Clients.start(token, "replay", url, entry_id)
    rounds = []
    for _ in range(REPLAY_ROUNDS):
        left = (await client.receive())["left"]
        for _ in range(REPLAY_EVENTS):
            await change_volume(player)
        assert hub.seq == left + REPLAY_EVENTS, "something else published while away"
        await client.send(f"go {hub.seq}")
        rounds.append(await client.receive())
    await client.receive()  # it left once more
    await client.close()
    times = [r["replay_ms"] for r in rounds]
    return {
        "rounds": len(rounds),
        "median": round(statistics.median(times), 2),
        "min": min(times),
        "max": max(times),
        "first_event_ms": statistics.median(r["first_event_ms"] for r in rounds),
        "gaps_or_snapshots": sum(r["gaps"] + r["snapshot"] for r in rounds),
        "incomplete": sum(r["events"] != REPLAY_EVENTS for r in rounds),
    }


async def report(baseline: dict[str, float], load: dict[str, Any], replay: dict[str, Any]) -> None:
    """Print the conditions and figures; the last line is RESULT {json}."""
    conditions = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "subscribers": SUBSCRIBERS,
        "client_processes": CLIENT_PROCESSES,
        "duration_s": load["cpu"]["seconds"],
        "volume_changes_per_s": VOLUME_HZ,
        "events_published": load["published"],
        "transport": "HA WebSocket API, loopback TCP (aiohttp test server), no coalescing,"
        f" permessage-deflate {'off' if os.environ.get('OMB_BENCH_COMPRESS') == '0' else 'on'}",
        "audio": "libmpv null output, 8 kHz mono WAV",
        "asyncio_debug": asyncio.get_running_loop().get_debug(),
        "connect_s": load["connect_s"],
    }
    print("\nconditions:", json.dumps(conditions))
    print("lag ms (server_time -> receipt):", json.dumps(load["lag_ms"]))
    for kind, figures in load["lag_ms_by_type"].items():
        print(f"  {kind:9s}:", json.dumps(figures))
    print("fan-out spread ms (first -> last subscriber):", json.dumps(load["fanout_spread_ms"]))
    print("hub.publish ms (stamp + queue to every subscriber):", json.dumps(load["publish_ms"]))
    checks = ("gaps", "missing", "duplicates", "no_snapshot", "closed_early")
    print("seq checks:", json.dumps({key: load[key] for key in checks}))
    print(
        "events per subscriber:",
        json.dumps(load["events_per_subscriber"]),
        f"(published in the window: {load['published']})",
    )
    print("HA process CPU, playing, no subscriber:", json.dumps(baseline))
    print(f"HA process CPU, playing, {SUBSCRIBERS} subscribers:", json.dumps(load["cpu"]))
    print("client process(es) CPU per s:", load["client_cpu_per_s"])
    print("HA process garbage-collector pauses, ms:", json.dumps(load["gc_ms"]))
    print(f"replay of {REPLAY_EVENTS} missed events, ms:", json.dumps(replay))
    others = load["cpu"]["machine_busy"] - (load["cpu"]["cpu_per_s"] + load["client_cpu_per_s"]) / (
        os.cpu_count() or 1
    )
    if others > 0.1:
        print(f"NOTE: other processes kept {others:.0%} of the machine busy: the tail is skewed")
    result = {
        "lag_p99_ms": load["lag_ms"]["p99"],
        "gaps": load["gaps"] + replay["gaps_or_snapshots"],  # seqs that were not previous + 1
        "cpu_per_s": load["cpu"]["cpu_per_s"],
        "replay_1000_ms": replay["median"],
        "lag_p50_ms": load["lag_ms"]["p50"],
        "lag_p95_ms": load["lag_ms"]["p95"],
        "baseline_cpu_per_s": baseline["cpu_per_s"],
        "subscribers": SUBSCRIBERS,
    }
    print("RESULT " + json.dumps(result))


async def test_hub(hass: Any, tmp_path: Path, aiohttp_client: Any, hass_access_token: str) -> None:
    """Measure (collected only when this file is run as a script)."""
    library = tmp_path / "library"
    write_wav(library / "Long" / "01 long.wav", BASELINE + DURATION + 60, freq=440)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    assert await async_setup_component(hass, "websocket_api", {})
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    box = entry.runtime_data
    server = await aiohttp_client(hass.http.app)  # a real socket on 127.0.0.1
    url = str(server.make_url("/api/websocket")).replace("http://", "ws://", 1)
    await play(hass, box)

    await asyncio.sleep(1)
    clock = CpuClock()  # playback alone: nobody subscribed, so no position stream
    await asyncio.sleep(BASELINE)
    baseline = clock.rates()
    args = (box.events, box.player, hass_access_token, url, entry.entry_id)
    load = await measure_load(*args)
    await box.player.async_pause()  # no position events while the replay client is away
    replay = await measure_replay(*args)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await report(baseline, load, replay)
