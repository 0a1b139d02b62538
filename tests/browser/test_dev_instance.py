"""First contact: the development instance in a real browser, as script/develop starts it.

Logged in as dev/dev (the `page` fixture): the dashboard renders, the box's device page, its media
browser lists the demo playlists, Assist answers (the README's voice examples too), and Home
Assistant's log has no error.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
import pytest

from .harness import DEMO_PLAYLISTS, ENTITY_ID, Instance, step

pytestmark = pytest.mark.browser

MAX_VOLUME_ENTITY_ID = "number.music_box_max_volume"


def device_id(instance: Instance, entity_id: str) -> str:
    answer: str = instance.api.ok(
        "POST", "/api/template", body={"template": f"{{{{ device_id('{entity_id}') }}}}"}
    )
    return answer.strip()


def open_assist(page: Page) -> None:
    """Click the toolbar's Assist button (named by its tooltip, in another shadow root)."""
    for tooltip in page.locator("ha-tooltip").all():
        if (tooltip.text_content() or "").strip().startswith("Assist"):
            labelled = tooltip.get_attribute("id")
            page.locator(f'ha-icon-button[aria-labelledby="{labelled}"]').click()
            return
    raise AssertionError("no Assist button in the toolbar")


def ask(dialog: Locator, request: str, answer: str) -> None:
    """Type a request into the Assist dialog and wait for Assist's answer."""
    field = dialog.locator("ha-assist-chat input")
    field.fill(request)
    field.press("Enter")
    expect(dialog.get_by_text(answer, exact=True)).to_be_visible()


def test_first_contact(instance: Instance, page: Page) -> None:
    """Dashboard, the box's device page, its media browser, Assist; no error in the log."""

    def dashboard() -> None:
        # Stuck on "Loading data" when any loaded integration's services cannot be described.
        expect(page.get_by_text("Welcome Dev")).to_be_visible()
        expect(page.get_by_text("Media players")).to_be_visible()
        expect(page.get_by_text("Loading data")).to_have_count(0)

    def device_page() -> None:
        device = device_id(instance, ENTITY_ID)
        page.goto(f"{instance.url}/config/devices/device/{device}")
        row = page.locator("hui-media-player-entity-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Music Box")
        expect(row).to_contain_text("Idle")

    def media_browser() -> None:
        page.goto(f"{instance.url}/media-browser/{ENTITY_ID}")
        browser = page.locator("ha-media-player-browse")
        for playlist in DEMO_PLAYLISTS:
            # The card's title (its tooltip repeats the name, hidden), then its total duration;
            # regex text is matched untrimmed, and lit pads it with spaces.
            name = re.compile(rf"^\s*{re.escape(playlist)}( · [0-9:]+)?\s*$")
            title = browser.get_by_text(name).and_(browser.locator(".title"))
            expect(title).to_be_visible()

    def assist() -> None:
        page.goto(f"{instance.url}/home/overview")
        expect(page.get_by_text("Welcome Dev")).to_be_visible()
        open_assist(page)
        dialog = page.locator("ha-voice-command-dialog")
        expect(dialog.get_by_text("How can I assist?")).to_be_visible()
        request = dialog.locator("ha-assist-chat input")
        request.fill("what is the time")
        request.press("Enter")
        # The default pipeline (conversation) answers with the time, e.g. "3:04 PM".
        expect(dialog.get_by_text(re.compile(r"^\s*\d{1,2}:\d{2}"))).to_be_visible()
        # The README's voice examples, said to the box from the same dialog.
        ask(dialog, "play Lullabies on Music Box", "Playing media")
        box = instance.api.ok("GET", f"/api/states/{ENTITY_ID}")
        assert (box["state"], box["attributes"].get("media_playlist")) == ("playing", "Lullabies")
        instance.api.ok(
            "POST",
            "/api/services/number/set_value",
            body={"entity_id": MAX_VOLUME_ENTITY_ID, "value": 40},
        )
        ask(
            dialog,
            "set Music Box volume to 90",
            "Volume limited to 40 %, the maximum volume of Music Box",
        )
        box = instance.api.ok("GET", f"/api/states/{ENTITY_ID}")
        assert box["attributes"]["volume_limited"] is True

    def clean_log() -> None:
        # First contact leaves no error: no onboarding flow or import that fails.
        text = instance.log.read_text(errors="replace")
        errors = [line for line in text.splitlines() if re.match(r"^\S+ \S+ ERROR ", line)]
        assert not errors, "errors in Home Assistant's log:\n" + "\n".join(errors)
        assert "Traceback" not in text

    step(page, instance, "dashboard", dashboard)
    step(page, instance, "device_page", device_page)
    step(page, instance, "media_browser", media_browser)
    step(page, instance, "assist", assist)
    step(page, instance, "clean_log", clean_log)
