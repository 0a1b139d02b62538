"""Take the README's screenshots with the browser tests' harness: docs/screenshots/*.png.

A real Home Assistant as script/develop runs it (demo library, the box, the demo room), a tag
linked, the reference satellite (null audio) in the room while it plays, and Debian's chromium:
the panel's views (Library, Tags, Rooms, Children) and the card (light, dark) on a phone (360 px
wide) and a tablet (1280 px).

Run:  .venv/bin/python script/screenshots.py      (regenerate them when the UI changes)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    ENTITY_ID,
    ROOM_ENTITY_ID,
    Instance,
    home_assistant,
    log_in,
)

OUT = ROOT / "docs" / "screenshots"
SIZES = {"phone": (360, 740), "tablet": (1280, 800)}
VIEWS = ("library", "tags", "rooms", "children")
DASHBOARD = "kids-box"
TIMEOUT_MS = 60_000


@contextmanager
def satellite(instance: Instance, home: Path) -> Iterator[None]:
    """The reference satellite (null audio) in the demo room, as its own process."""
    room_id = instance.api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")["attributes"]["room_id"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "satellite"), "OMB_TOKEN": instance.api.token}
    command = [sys.executable, "-m", "omb_satellite", "--url", instance.url, "--room", room_id]
    command += ["--name", "Kitchen", "--ao", "null", "--identity", str(home / "satellite-id")]
    process = subprocess.Popen(
        command, env={**env, "XDG_CONFIG_HOME": str(home)}, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def playlist_id(instance: Instance, name: str) -> str:
    playlists = instance.service("list_playlists")["playlists"]
    found: str = next(p["id"] for p in playlists if p["name"] == name)
    return found


def play(instance: Instance, entity_id: str, name: str) -> None:
    body = {
        "entity_id": entity_id,
        "media_content_id": f"playlist:{playlist_id(instance, name)}",
        "media_content_type": "music",
    }
    instance.api.ok("POST", "/api/services/media_player/play_media", body=body)


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)", message
    )


def save_dashboard(page: Page) -> None:
    """A dashboard of its own holding the card for the box."""
    boards = call_ws(page, {"type": "lovelace/dashboards/list"})
    if not any(board["url_path"] == DASHBOARD for board in boards):
        create = {"type": "lovelace/dashboards/create", "url_path": DASHBOARD, "title": "Kids"}
        call_ws(page, create)
    card = {"type": "custom:open-music-box-card", "entity": ENTITY_ID, "title": "Emma's music"}
    config = {"views": [{"title": "Kids", "path": "kids", "cards": [card]}]}
    call_ws(page, {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})


def shoot_panel(browser: Browser, instance: Instance, size: str) -> None:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    log_in(page, instance)
    for view in VIEWS:
        page.goto(f"{instance.url}/open-music-box?tab={view}")
        panel = page.locator("open-music-box-panel")
        expect(panel.get_by_role("tab", name=view.capitalize())).to_be_visible(timeout=TIMEOUT_MS)
        if view == "rooms":  # the live error of each member, measured
            expect(panel.locator(".error-ms").first).not_to_have_text("—", timeout=TIMEOUT_MS)
        if view == "children":
            expect(panel.locator("#listened")).to_be_visible(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1500)  # covers and fonts
        page.screenshot(path=OUT / f"panel-{view}-{size}.png")
    context.close()


def shoot_card(browser: Browser, instance: Instance, size: str, scheme: str) -> None:
    width, height = SIZES[size]
    viewport = {"width": width, "height": height}
    context = browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    log_in(page, instance)
    save_dashboard(page)
    page.goto(f"{instance.url}/{DASHBOARD}/kids")
    page.reload()
    card = page.locator("open-music-box-card")
    expect(card.get_by_role("button", name="Play Lullabies")).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=OUT / f"card-{scheme}-{size}.png")
    context.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="omb-shots-") as tmp:
        home = Path(tmp)
        with home_assistant(home / "config") as instance, satellite(instance, home):
            animals = playlist_id(instance, "Animal Songs")
            instance.service("link_tag", tag_id="04:a2:19:5e:11:90", playlist_id=animals)
            play(instance, ENTITY_ID, "Lullabies")
            play(instance, ROOM_ENTITY_ID, "The Sleepy Lighthouse")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for size in SIZES:
                    shoot_panel(browser, instance, size)
                    for scheme in ("light", "dark"):
                        shoot_card(browser, instance, size, scheme)
                browser.close()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
