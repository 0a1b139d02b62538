"""The card's "Listen here" in a real browser: the tab joins the room as a Sendspin player.

Chromium plays without a user gesture (--autoplay-policy) and without a sound card (headless
output); the room lists the browser as a member while it listens, and not after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import time
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright
import pytest

from .harness import CHROMIUM, CHROMIUM_ARGS, ENTITY_ID, ROOM_ENTITY_ID, Instance, step

pytestmark = pytest.mark.browser

BROWSER_MEMBER = "sendspin:omb-browser-"
CARD = "custom:open-music-box-card"
DASHBOARD = "listen-here"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, allowed to start audio by itself (no user gesture in a test)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: script/bootstrap installs it (apt package chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send a WebSocket command through the page's own `hass` (the logged-in user)."""
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)", message
    )


def show_card(page: Page, instance: Instance, card: dict[str, Any]) -> None:
    """Save a dashboard of its own holding `card` and open it."""
    dashboards = call_ws(page, {"type": "lovelace/dashboards/list"})
    if not any(board["url_path"] == DASHBOARD for board in dashboards):
        call_ws(page, {"type": "lovelace/dashboards/create", "url_path": DASHBOARD, "title": "Hi"})
    config = {"views": [{"title": "Listen", "path": "listen", "cards": [card]}]}
    call_ws(page, {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})
    page.goto(f"{instance.url}/{DASHBOARD}/listen")
    page.reload()  # the dashboard reads the saved config


# The card's sendspin-js player, found through the shadow roots.
FIND_PLAYER = """function find(root) {
  for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'OMB-LISTEN') return el.player;
    if (el.shadowRoot) { const found = find(el.shadowRoot); if (found) return found; }
  }
  return null;
}"""


def browser_members(instance: Instance) -> list[dict[str, Any]]:
    state = instance.api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")
    return [m for m in state["attributes"]["members"] if m["member_id"].startswith(BROWSER_MEMBER)]


def wait_until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


# Detach the card (kept in `window.__ombDetached` to put it back), as a view change does.
DETACH = "el => { window.__ombDetached = [el, el.parentNode, el.nextSibling]; el.remove(); }"
ATTACH = "() => { const [el, parent, next] = window.__ombDetached; parent.insertBefore(el, next); }"
# The card's Sendspin sockets (kept in `window.__ombSockets`); with `detach`, the first one
# detaches the card as it is made: the card leaves the page while it connects.
WATCH_SOCKETS = """detach => {
  const Native = (window.__ombNativeSocket ??= window.WebSocket);
  window.__ombSockets = [];
  window.WebSocket = class extends Native {
    constructor(url, ...rest) {
      super(url, ...rest);
      if (!String(url).includes('/sendspin/')) return;
      window.__ombSockets.push(this);
      if (detach && window.__ombSockets.length === 1) {
        const el = window.__ombCard;
        window.__ombDetached = [el, el.parentNode, el.nextSibling];
        el.remove();
      }
    }
  };
}"""
SOCKETS_CLOSED = "() => window.__ombSockets.every(socket => socket.readyState === WebSocket.CLOSED)"
# Count the `sendspin/join` commands the page sends on Home Assistant's WebSocket.
COUNT_JOINS = """() => {
  const send = WebSocket.prototype.send;
  window.__ombJoins = 0;
  WebSocket.prototype.send = function (data) {
    if (String(data).includes('open_music_box/sendspin/join')) window.__ombJoins++;
    return send.call(this, data);
  };
}"""


def test_listen_here_joins_the_room(instance: Instance, page: Page) -> None:
    """Listen here connects the tab, the room lists it; stop (or leaving the page) removes it."""

    def not_on_a_box() -> None:
        show_card(page, instance, {"type": CARD, "entity": ENTITY_ID})
        card = page.locator("open-music-box-card")
        expect(card.get_by_role("button", name="Next track")).to_be_visible()
        expect(card.get_by_role("button", name="Listen here")).to_have_count(0)

    def joins() -> None:
        show_card(page, instance, {"type": CARD, "entity": ROOM_ENTITY_ID})
        card = page.locator("open-music-box-card")
        card.get_by_role("button", name="Listen here").click()
        expect(card.get_by_role("button", name="Stop listening here")).to_be_visible()
        expect(card.get_by_label("Volume here")).to_be_visible()
        wait_until(lambda: len(browser_members(instance)) == 1)
        (member,) = browser_members(instance)
        assert member | {"member_id": ""} == {
            "member_id": "",
            "kind": "sendspin",
            "name": "Dev's browser",
            "available": True,
        }

    def plays() -> None:
        favourites = next(
            p["id"]
            for p in instance.service("list_playlists")["playlists"]
            if p["name"] == "Favourites"
        )
        instance.api.ok(
            "POST",
            "/api/services/media_player/play_media",
            body={
                "entity_id": ROOM_ENTITY_ID,
                "media_content_id": f"playlist:{favourites}",
                "media_content_type": "playlist",
            },
        )
        # sendspin-js in the tab is playing the room's stream.
        page.wait_for_function(f"() => ({FIND_PLAYER})(document)?.isPlaying === true")
        # Its timing does not follow the AudioContext's latency figure from stream to stream: the
        # card read it once and fixed it as the player's static delay (over the platform's 200 ms).
        timing = page.evaluate(
            f"""() => {{
              const player = ({FIND_PLAYER})(document);
              return [player.scheduler.useOutputLatencyCompensation, player.core.getSyncDelayMs()];
            }}"""
        )
        assert timing[0] is False
        assert timing[1] >= 200
        instance.api.ok(
            "POST", "/api/services/media_player/media_stop", body={"entity_id": ROOM_ENTITY_ID}
        )

    def stops() -> None:
        card = page.locator("open-music-box-card")
        card.get_by_role("button", name="Stop listening here").click()
        expect(card.get_by_role("button", name="Listen here")).to_be_visible()
        wait_until(lambda: not browser_members(instance))

    def leaving_the_page_leaves() -> None:
        card = page.locator("open-music-box-card")
        card.get_by_role("button", name="Listen here").click()
        expect(card.get_by_role("button", name="Stop listening here")).to_be_visible()
        wait_until(lambda: len(browser_members(instance)) == 1)
        page.goto(f"{instance.url}/profile")
        wait_until(lambda: not browser_members(instance))

    def moving_the_card_keeps_listening() -> None:
        # A view laying its columns out again moves the card: it stays the same listener.
        page.goto(f"{instance.url}/{DASHBOARD}/listen")
        card = page.locator("open-music-box-card")
        page.evaluate(WATCH_SOCKETS, False)
        card.get_by_role("button", name="Listen here").click()
        expect(card.get_by_role("button", name="Stop listening here")).to_be_visible()
        wait_until(lambda: len(browser_members(instance)) == 1)
        before = browser_members(instance)
        card.evaluate(
            "el => { const parent = el.parentNode, next = el.nextSibling;"
            " el.remove(); parent.insertBefore(el, next); }"
        )
        page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")  # its microtasks ran
        expect(card.get_by_role("button", name="Stop listening here")).to_be_visible()
        assert page.evaluate("() => window.__ombSockets[0].readyState") == 1  # OPEN
        assert browser_members(instance) == before

    def leaving_with_the_card() -> None:
        # Detached while it listens (the step before left it listening): it leaves the room and
        # shows "Listen here" (off) when it comes back.
        card = page.locator("open-music-box-card")
        card.evaluate(DETACH)
        page.wait_for_function(SOCKETS_CLOSED)
        wait_until(lambda: not browser_members(instance))
        page.evaluate(ATTACH)
        listen = card.get_by_role("button", name="Listen here")
        expect(listen).to_have_attribute("aria-pressed", "false")
        expect(card.get_by_label("Volume here")).to_have_count(0)

    def leaving_while_connecting() -> None:
        # Detached while its socket connects: the socket closes and the room is never joined.
        card = page.locator("open-music-box-card")
        page.evaluate(WATCH_SOCKETS, True)
        page.evaluate(COUNT_JOINS)
        card.evaluate("el => { window.__ombCard = el; }")
        card.get_by_role("button", name="Listen here").click()
        page.wait_for_function(
            "() => window.__ombSockets.length === 1 && !window.__ombCard.isConnected"
        )
        page.wait_for_function(SOCKETS_CLOSED)
        page.evaluate(ATTACH)
        listen = card.get_by_role("button", name="Listen here")
        expect(listen).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("() => window.__ombJoins") == 0
        assert not browser_members(instance)
        # Pressed again, it listens as usual.
        listen.click()
        expect(card.get_by_role("button", name="Stop listening here")).to_be_visible()
        wait_until(lambda: len(browser_members(instance)) == 1)
        card.get_by_role("button", name="Stop listening here").click()
        wait_until(lambda: not browser_members(instance))

    step(page, instance, "listen_not_on_a_box", not_on_a_box)
    step(page, instance, "listen_joins", joins)
    step(page, instance, "listen_plays", plays)
    step(page, instance, "listen_stops", stops)
    step(page, instance, "listen_leaves_with_the_page", leaving_the_page_leaves)
    step(page, instance, "listen_moves_with_the_card", moving_the_card_keeps_listening)
    step(page, instance, "listen_leaves_with_the_card", leaving_with_the_card)
    step(page, instance, "listen_leaves_while_connecting", leaving_while_connecting)
