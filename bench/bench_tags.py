"""Tag to sound, and voice search, on a 10,000-track library.

tag -> sound: `tag_scanned` fired on HA's bus -> libmpv's `playback-restart` of the linked
playlist's first track (timestamped with time.monotonic() in mpv's own thread), over 200 scans
across 120 linked tags (each scan a different playlist than the one playing).
search: `media_player/search_media` over HA's real WebSocket API (what Assist's search-and-play
intent calls), 200 queries for playlists, titles, artists and albums.

Run:  .venv/bin/python bench/bench_tags.py
The last line is `RESULT {json}` (milliseconds).
"""

from __future__ import annotations

if __name__ == "__main__":  # measure under pytest: its `hass` fixture is a real HA core
    from _harness import run_under_pytest

    run_under_pytest(__file__)

import asyncio
from functools import partial
import json
import os
from pathlib import Path
import platform
import time
from typing import Any

import pytest

from bench.bench_library import build_library, summarize
from tests.audio import make_track
from tests.conftest import box_entry

SCANS = 200
TAGS = 120
SEARCHES = 200
QUERIES = ["album 0042", "song 7", "artist 13", "ALBUM 01", "song 49", "artist 0", "Album 0199"]

pytestmark = pytest.mark.usefixtures("enable_custom_integrations")


class RestartWatch:
    """mpv's playback-restart of one expected file, timestamped in mpv's thread.

    The library's tracks are 50 ms long, so mpv keeps advancing: only the restart of the file
    the scan should start counts.
    """

    def __init__(self, mpv: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._mpv = mpv
        self._loop = loop
        self.event = asyncio.Event()
        self.expected: str | None = None
        self.at = 0.0
        mpv.register_event_callback(self._on_event)

    def expect(self, path: str) -> None:
        self.event.clear()
        self.expected = path

    def _on_event(self, event: Any) -> None:
        if event.as_dict().get("event") != b"playback-restart":
            return
        at = time.monotonic()
        if self.expected is not None and self._mpv.path == self.expected:
            self.expected = None
            self.at = at
            self._loop.call_soon_threadsafe(self.event.set)


def figures(samples: list[float]) -> dict[str, float]:
    """Median, p95, p99 rounded (ms)."""
    return {key: round(value, 2) for key, value in summarize(samples).items()}


async def test_tags_and_search(hass: Any, hass_ws_client: Any, tmp_path: Path) -> None:
    """Measure (collected only when this file is run as a script)."""
    library = tmp_path / "Music"
    library.mkdir()
    start = time.perf_counter()
    files = await hass.async_add_executor_job(build_library, library, 200, 50)
    # The generated tracks last 50 ms: mpv would be past a first track before its restart event
    # is read. Real first tracks last minutes; 2 s is enough to tell which file started.
    firsts = sorted(library.glob("*/*/01 Song 1.wav"))[:TAGS]
    for path in firsts:
        await hass.async_add_executor_job(
            partial(make_track, path, 2.0, title="Song 1", album=path.parent.name, track=1)
        )
    generated_s = time.perf_counter() - start
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    entry = box_entry(library)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    box = entry.runtime_data
    playlists = [
        p
        for p in box.catalog.playlists()
        if p.kind.value == "folder" and (box.catalog.tracks_of(p)[0].duration or 0) > 1
    ]
    assert len(playlists) == TAGS
    for index, playlist in enumerate(playlists):
        box.tags.link(f"bench-tag-{index:03d}", playlist.id)
    watch = RestartWatch(box.player.output.mpv, hass.loop)

    scans = []
    for index in range(SCANS):
        playlist = playlists[index % len(playlists)]
        tag = f"bench-tag-{index % len(playlists):03d}"
        first = box.catalog.tracks_of(playlist)[0]
        watch.expect(first.path)
        fired = time.monotonic()
        hass.bus.async_fire("tag_scanned", {"tag_id": tag, "device_id": None})
        async with asyncio.timeout(10):
            await watch.event.wait()
        scans.append((watch.at - fired) * 1000)
        assert box.player.playlist_id == playlist.id

    client = await hass_ws_client(hass)
    searches = []
    for index in range(SEARCHES):
        sent = time.perf_counter()
        await client.send_json_auto_id(
            {
                "type": "media_player/search_media",
                "entity_id": "media_player.music_box",
                "search_query": QUERIES[index % len(QUERIES)],
            }
        )
        reply = await client.receive_json()
        searches.append((time.perf_counter() - sent) * 1000)
        assert reply["success"], reply
        assert reply["result"]["result"], reply
    await hass.config_entries.async_unload(entry.entry_id)

    tag_figures, search_figures = figures(scans), figures(searches)
    conditions = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "tracks": len(box.catalog.scan.tracks),
        "files_generated": files,
        "generation_s": round(generated_s, 1),
        "linked_tags": len(playlists),
        "scans": SCANS,
        "searches": SEARCHES,
        "audio": "libmpv null output, tiny tagged WAVs",
    }
    print("\nconditions:", json.dumps(conditions))
    print("tag -> sound ms:", json.dumps(tag_figures))
    print("search_media ms:", json.dumps(search_figures))
    print(
        "RESULT "
        + json.dumps(
            {
                "tag_to_sound_p95_ms": tag_figures["p95"],
                "search_p95_ms": search_figures["p95"],
                "tag_to_sound_p50_ms": tag_figures["median"],
                "tag_to_sound_p99_ms": tag_figures["p99"],
                "search_p50_ms": search_figures["median"],
                "search_p99_ms": search_figures["p99"],
            }
        )
    )
