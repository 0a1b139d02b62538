"""The card and the panel in a real browser: first render, opening a big playlist, scrolling, bytes.

A real Home Assistant (tests/browser/harness.py: as script/develop runs it) whose library is the
demo library plus a generated one of 200 folders x 50 tracks (10,000 tracks, 204 playlists), and a
playlist of 1,000 of them; Playwright drives Debian's /usr/bin/chromium at 1280 x 900.

- card: the dashboard is reloaded; from the card's element connecting (the dashboard is up) to
  the frame where its grid holds every playlist's cover button (goal <= 300 ms).
- panel: the Library view opens the 1,000-track playlist (click -> the frame where its rows stop
  changing, goal <= 200 ms); then that list is scrolled for a few seconds, one step a frame
  (frames per second and frame times; goal 60 fps).
- bundles: bytes of the committed card.js and panel.js, raw and gzip -9 (goal: card <= 60 kB), and
  of the chunks the card imports on demand (chunks/: sendspin-js for "Listen here").

Run:  .venv/bin/python bench/bench_ui.py   (BENCH_RUNS=10 runs of each measure)
The last line is `RESULT {json}` (milliseconds, bytes).
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench.bench_library import build_library  # noqa: E402
from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    ENTITY_ID,
    Instance,
    home_assistant,
    log_in,
)

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
SCROLL_SECONDS = float(os.environ.get("BENCH_SCROLL_SECONDS", "3"))
BIG = "Bench 1000"
ALBUMS = 200
DASHBOARD = "bench-ui"
BUNDLES = ROOT / "custom_components" / "open_music_box" / "frontend"

# Recorded in the page: when the card connects, and the frame where its grid is complete.
CARD_PROBE = """
(() => {
  const define = customElements.define.bind(customElements);
  customElements.define = (name, cls, options) => {
    if (name === "open-music-box-card") {
      const connected = cls.prototype.connectedCallback;
      cls.prototype.connectedCallback = function () {
        connected.call(this);
        const t0 = performance.now();
        window.__ombCard = { connected: t0, rendered: null };
        const poll = () => {
          const covers = this.shadowRoot?.querySelectorAll("button.cover").length ?? 0;
          if (covers >= window.__ombCovers) window.__ombCard.rendered = performance.now();
          else requestAnimationFrame(poll);
        };
        requestAnimationFrame(poll);
      };
    }
    return define(name, cls, options);
  };
})();
"""

# Deep queries through the panel's shadow roots (views are Lit elements inside Lit elements).
DEEP = """
() => {
  window.__deep = (root, test, found = []) => {
    for (const el of root.querySelectorAll("*")) {
      if (test(el)) found.push(el);
      if (el.shadowRoot) window.__deep(el.shadowRoot, test, found);
    }
    return found;
  };
}
"""

# Click a tile, then wait for the frame after which the number of rows stays the same twice.
OPEN_PLAYLIST = """
async (tile) => {
  const isRow = (el) => el.tagName === "LI" || el.getAttribute("role") === "row";
  const rows = () => window.__deep(document, isRow).length;
  const before = rows();
  const t0 = performance.now();
  tile.click();
  let last = -1, same = 0, at = t0;
  while (same < 2) {
    await new Promise((r) => requestAnimationFrame(r));
    const n = rows();
    if (n !== before && n === last) same++;
    else { same = 0; at = performance.now(); }
    last = n;
    if (performance.now() - t0 > 20000) break;
  }
  return { ms: at - t0, rows: last };
}
"""

# Scroll the largest scrollable box one step a frame; return the frame times.
SCROLL = """
async (seconds) => {
  const scrollers = window.__deep(document, (el) => {
    const style = getComputedStyle(el);
    return /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 100;
  });
  scrollers.push(document.scrollingElement);
  const room = (el) => el.scrollHeight - el.clientHeight;
  const box = scrollers.sort((a, b) => room(b) - room(a))[0];
  const times = [];
  const t0 = performance.now();
  let direction = 1;
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => requestAnimationFrame(r));
    times.push(performance.now());
    const top = box.scrollTop;
    box.scrollTop = top + direction * 120;
    if (box.scrollTop === top) direction = -direction;
  }
  return { times, range: box.scrollHeight - box.clientHeight };
}
"""


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, p95, p99 (inclusive quantiles: with few runs p95/p99 approach the maximum)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return {"median": ordered[0], "p95": ordered[0], "p99": ordered[0], "runs": 1}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "max": round(ordered[-1], 1),
        "runs": len(ordered),
    }


def bundles() -> dict[str, dict[str, int]]:
    """Bytes of the committed bundles, raw and gzip -9."""
    sizes = {}
    for path in sorted(BUNDLES.glob("**/*.js")):
        data = path.read_bytes()
        name = path.relative_to(BUNDLES).with_suffix("").as_posix()
        sizes[name] = {"raw": len(data), "gzip": len(gzip.compress(data, 9))}
    return sizes


def prepare(instance: Instance, albums: int) -> int:
    """Wait for the scan, make the 1,000-track playlist; return how many playlists there are."""
    deadline = time.monotonic() + 300
    while True:
        playlists = instance.service("list_playlists")["playlists"]
        if sum(p["name"].startswith("Album ") for p in playlists) >= albums:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the library scan did not finish: {len(playlists)} playlists")
        time.sleep(1)
    ids: list[str] = []
    for playlist in sorted(playlists, key=lambda p: p["name"]):
        if playlist["name"].startswith("Album ") and len(ids) < 1000:
            ids += instance.service("get_playlist", playlist_id=playlist["id"])["track_ids"]
    instance.service("create_playlist", name=BIG, track_ids=ids[:1000])
    return len(playlists) + 1


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)", message
    )


def measure_card(page: Page, instance: Instance, playlists: int) -> list[float]:
    """The card's first render after the dashboard is up, over RUNS reloads."""
    boards = call_ws(page, {"type": "lovelace/dashboards/list"})
    if not any(board["url_path"] == DASHBOARD for board in boards):
        create = {"type": "lovelace/dashboards/create", "url_path": DASHBOARD, "title": "Bench"}
        call_ws(page, create)
    card = {"type": "custom:open-music-box-card", "entity": ENTITY_ID}
    config = {"views": [{"title": "Bench", "path": "bench", "cards": [card]}]}
    call_ws(page, {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})
    page.add_init_script(f"window.__ombCovers = {playlists};\n{CARD_PROBE}")
    samples = []
    for _ in range(RUNS + 1):  # the first load warms the caches: left out
        page.goto(f"{instance.url}/{DASHBOARD}/bench")
        page.wait_for_function("() => window.__ombCard?.rendered", timeout=60_000)
        found = page.evaluate("() => window.__ombCard")
        samples.append(found["rendered"] - found["connected"])
    return samples[1:]


def measure_panel(page: Page, instance: Instance) -> dict[str, Any]:
    """Open the 1,000-track playlist RUNS times, then scroll it."""
    page.goto(f"{instance.url}/open-music-box")
    page.evaluate(DEEP)
    panel = page.locator("open-music-box-panel")
    tile = panel.get_by_role("button", name=f"Open {BIG}")
    tile.wait_for(timeout=60_000)
    opened, rows = [], 0
    for run in range(RUNS + 1):
        found = tile.evaluate(OPEN_PLAYLIST)
        if run:  # the first opening fetches into cold caches: left out
            opened.append(found["ms"])
        rows = found["rows"]
        if run < RUNS:
            panel.get_by_role("button", name="Back to the playlists").click()
            tile.wait_for()
    scrolled = page.evaluate(SCROLL, SCROLL_SECONDS)
    times = scrolled["times"]
    frames = [b - a for a, b in itertools.pairwise(times)]
    fps = (len(times) - 1) / ((times[-1] - times[0]) / 1000) if len(times) > 1 else 0.0
    return {
        "open_ms": opened,
        "rows_rendered": rows,
        "scroll_fps": round(fps, 1),
        "frame_ms": summarize(frames),
        "scroll_range_px": scrolled["range"],
    }


def main() -> int:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        config = Path(tmp) / "config"
        files = build_library(config / "media" / "open_music_box" / "Bench", ALBUMS, 50)
        with home_assistant(config) as instance, sync_playwright() as playwright:
            playlists = prepare(instance, ALBUMS)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            log_in(page, instance)
            card = measure_card(page, instance, playlists)
            panel = measure_panel(page, instance)
            browser.close()
    load_after = os.getloadavg()
    conditions = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "tracks": files,
        "playlists": playlists,
        "runs": RUNS,
    }
    figures = {
        "card_first_render_ms": summarize(card),
        "open_1000_track_playlist_ms": summarize(panel["open_ms"]),
        "rows_rendered": panel["rows_rendered"],
        "scroll_fps": panel["scroll_fps"],
        "scroll_frame_ms": panel["frame_ms"],
        "bundles": bundles(),
    }
    print("\nconditions:", json.dumps(conditions))
    print("card first render ms:", json.dumps(figures["card_first_render_ms"]))
    print("open a 1,000-track playlist ms:", json.dumps(figures["open_1000_track_playlist_ms"]))
    print(f"rows rendered: {panel['rows_rendered']}; scroll: {panel['scroll_fps']} fps,", end=" ")
    print("frame ms:", json.dumps(panel["frame_ms"]))
    print("bundles bytes:", json.dumps(figures["bundles"]))
    print("RESULT " + json.dumps({"conditions": conditions, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
