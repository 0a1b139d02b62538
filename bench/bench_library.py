"""Benchmark of the library scan and of browse_media, on a generated library of tagged tiny WAVs.

Run: .venv/bin/python bench/bench_library.py [--playlists 200] [--per-playlist 50]

browse_media is measured through a real Home Assistant core (the test harness's `hass`
fixture, run by bench/_harness.py) over its real WebSocket API, alternating the root (every
playlist) and one playlist (its tracks).

"Cold" is a scan without a metadata cache (every file's tags read with mutagen); the OS page
cache is warm after generation, as it would be on a box that has been running. "Warm" is a
rescan with a MetadataCache filled by a previous scan (files are only stat'ed).
The last line is `RESULT {json}` for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import datetime as dt
import importlib.metadata
import json
import os
from pathlib import Path
import platform
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mutagen.id3 import TALB, TIT2, TPE1, TRCK  # noqa: E402
from mutagen.wave import WAVE  # noqa: E402
import pytest  # noqa: E402

from custom_components.open_music_box.library import (  # noqa: E402
    MetadataCache,
    scan_library,
)
from tests.audio import write_wav  # noqa: E402
from tests.conftest import box_entry  # noqa: E402

BROWSE_ROUNDS = 200

# Collected by pytest only when main() runs the browse part (tests/conftest.py is not loaded).
pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


def build_library(
    root: Path, playlists: int = 200, per_playlist: int = 50, *, m3u_every: int = 10
) -> int:
    """Fill root with `playlists` album folders of `per_playlist` tagged WAV files.

    One WAV is written, then copied and tagged (title, artist, album, track) with mutagen;
    every `m3u_every`-th folder also gets an m3u listing its tracks in reverse.
    Return the number of audio files written.
    """
    template = root / ".template.wav"
    write_wav(template, seconds=0.05, freq=440.0)
    count = 0
    for album in range(1, playlists + 1):
        folder = root / f"Artist {album % 37:02d}" / f"Album {album:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for number in range(1, per_playlist + 1):
            name = f"{number:02d} Song {number}.wav"
            path = folder / name
            shutil.copyfile(template, path)
            audio = WAVE(path)
            audio.add_tags()
            audio.tags.add(TIT2(encoding=3, text=[f"Song {album}-{number}"]))
            audio.tags.add(TPE1(encoding=3, text=[f"Artist {album % 37:02d}"]))
            audio.tags.add(TALB(encoding=3, text=[f"Album {album:04d}"]))
            audio.tags.add(TRCK(encoding=3, text=[f"{number}/{per_playlist}"]))
            audio.save()
            names.append(name)
            count += 1
        if m3u_every and album % m3u_every == 0:
            (folder / "reverse.m3u8").write_text("\n".join(reversed(names)) + "\n")
    template.unlink()
    return count


def measure(action: Callable[[], object], runs: int) -> list[float]:
    """Run action `runs` times; return the durations in milliseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, p95, p99 (inclusive quantiles: with few runs p95/p99 approach the maximum)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return {"median": ordered[0], "p95": ordered[0], "p99": ordered[0], "runs": 1}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "median": statistics.median(ordered),
        "p95": cuts[94],
        "p99": cuts[98],
        "min": ordered[0],
        "max": ordered[-1],
        "runs": len(ordered),
    }


def conditions(files: int, library: Path) -> dict[str, Any]:
    """What the figures depend on."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "mutagen": importlib.metadata.version("mutagen"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "files": files,
        "library": str(library),
    }


def print_figures(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label:<12} median {figures['median']:8.1f} ms  p95 {figures['p95']:8.1f} ms  "
        f"p99 {figures['p99']:8.1f} ms  (min {figures.get('min', figures['median']):.1f}, "
        f"max {figures.get('max', figures['median']):.1f}, runs {figures['runs']:.0f})"
    )


def measure_browse(library: Path) -> dict[str, float]:
    """Run test_browse under pytest on `library`; return its figures."""
    from _harness import run_pytest  # noqa: PLC0415 - bench/ is on sys.path when run as a script

    out = library.parent / "browse.json"
    code = run_pytest(__file__, {"BENCH_LIBRARY": str(library), "BENCH_OUT": str(out)})
    if code != 0:
        raise SystemExit(f"browse benchmark failed ({code})")
    figures: dict[str, float] = json.loads(out.read_text())
    return figures


async def test_browse(hass: Any, hass_ws_client: Any) -> None:
    """browse_media over the WebSocket API: root and one playlist, alternately."""
    library = Path(os.environ["BENCH_LIBRARY"])
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    playlist = entry.runtime_data.catalog.playlists()[0]
    client = await hass_ws_client(hass)
    samples = []
    for index in range(BROWSE_ROUNDS):
        command: dict[str, Any] = {
            "type": "media_player/browse_media",
            "entity_id": "media_player.music_box",
        }
        if index % 2:
            command |= {
                "media_content_type": "playlist",
                "media_content_id": f"playlist:{playlist.id}",
            }
        start = time.perf_counter()
        await client.send_json_auto_id(command)
        reply = await client.receive_json()
        samples.append((time.perf_counter() - start) * 1000)
        assert reply["success"], reply
        assert reply["result"]["children"]
    await hass.config_entries.async_unload(entry.entry_id)
    out = Path(os.environ["BENCH_OUT"])
    await asyncio.to_thread(out.write_text, json.dumps(summarize(samples)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playlists", type=int, default=200)
    parser.add_argument("--per-playlist", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--warm-runs", type=int, default=20)
    parser.add_argument("--dir", type=Path, help="parent folder for the library (default: tmp)")
    args = parser.parse_args()

    parent = Path(tempfile.mkdtemp(prefix="omb-bench-", dir=args.dir))
    library = parent / "Music"
    library.mkdir()
    try:
        start = time.perf_counter()
        files = build_library(library, args.playlists, args.per_playlist)
        print(f"generated {files} files in {time.perf_counter() - start:.1f} s")
        for key, value in conditions(files, library).items():
            print(f"  {key}: {value}")

        def allow_nothing(_path: str) -> bool:
            return False

        result = scan_library(library, allow_nothing)
        print(
            f"scan: {len(result.tracks)} tracks, {len(result.playlists)} playlists, "
            f"{len(result.skipped)} skipped"
        )
        cold = summarize(
            measure(lambda: scan_library(library, allow_nothing, MetadataCache()), args.cold_runs)
        )
        cache = MetadataCache()
        scan_library(library, allow_nothing, cache)
        warm = summarize(
            measure(lambda: scan_library(library, allow_nothing, cache), args.warm_runs)
        )
        print_figures("scan cold", cold)
        print_figures("scan warm", warm)
        browse = measure_browse(library)
        print_figures("browse", browse)
        figures = {
            "scan_ms": round(cold["median"], 1),
            "scan_warm_ms": round(warm["median"], 1),
            "browse_p95_ms": round(browse["p95"], 2),
        }
        print("RESULT " + json.dumps(figures))
    finally:
        shutil.rmtree(parent)


if __name__ == "__main__":
    main()
