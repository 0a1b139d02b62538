"""The parents' panel and the children's card in a real browser, against a real Home Assistant.

On failure the page's screenshot and Home Assistant's log go to tests/screenshots/ (git-ignored).
Skip them with `-m "not browser"`.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from playwright.sync_api import Browser, Page, TimeoutError as PlaywrightTimeoutError, expect
import pytest

from custom_components.open_music_box.tag_notices import TAGS_PANEL_URL

from .harness import (
    DEMO_PLAYLISTS,
    ENTITY_ID,
    ROOM_ENTITY_ID,
    Instance,
    french_page,
    log_in,
    step,
)

pytestmark = pytest.mark.browser

CARD = "custom:open-music-box-card"
DASHBOARD = "kids-box"


def wait_for_hass(page: Page) -> None:
    """Wait until Home Assistant's frontend is connected and has the states."""
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send a WebSocket command through the page's own `hass` (the logged-in user)."""
    wait_for_hass(page)
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)", message
    )


def names(instance: Instance) -> list[str]:
    return [p["name"] for p in instance.service("list_playlists")["playlists"]]


def show_dashboard(page: Page, instance: Instance, card: dict[str, Any]) -> None:
    """Save a dashboard of its own holding `card` and open it."""
    dashboards = call_ws(page, {"type": "lovelace/dashboards/list"})
    if not any(board["url_path"] == DASHBOARD for board in dashboards):
        call_ws(
            page,
            {"type": "lovelace/dashboards/create", "url_path": DASHBOARD, "title": "Kids"},
        )
    view = {"title": "Kids", "path": "kids", "cards": [card]}
    config = {"views": [view]}
    call_ws(page, {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})
    page.goto(f"{instance.url}/{DASHBOARD}/kids")
    page.reload()  # the dashboard reads the saved config


def cover_loaded(page: Page, name: str) -> bool:
    """Return True once the button's cover image has loaded and decoded (within 10 s).

    A visible img may still be loading: with the tests on two workers one read came too early.
    """
    image = page.get_by_role("button", name=name).locator("img").element_handle()
    loaded = "img => img.complete && img.naturalWidth > 0"
    try:
        page.wait_for_function(loaded, arg=image, timeout=10_000)
    except PlaywrightTimeoutError:
        return False
    return True


def test_panel_library(instance: Instance, page: Page) -> None:
    """The panel shows the library with covers; a playlist is created and renamed in the box."""

    def loads() -> None:
        page.goto(f"{instance.url}/open-music-box")
        panel = page.locator("open-music-box-panel")
        expect(panel.get_by_role("tab", name="Library")).to_be_visible()
        for name in DEMO_PLAYLISTS:
            expect(panel.get_by_role("button", name=f"Open {name}")).to_be_visible()
        expect(panel.get_by_role("button", name="Open Animal Songs")).to_contain_text("5 tracks")
        expect(panel.get_by_role("button", name="Open Animal Songs").locator("img")).to_be_visible()
        assert cover_loaded(page, "Open Animal Songs")

    def refuses_blank_name() -> None:
        panel = page.locator("open-music-box-panel")
        panel.locator("#new-name").fill("   ")
        panel.get_by_role("button", name="Create").click()
        # The integration's own translation of the error (translations/en.json), in place.
        expect(panel.get_by_role("alert")).to_contain_text(
            "A playlist name must have 1 to 100 characters"
        )

    def creates_and_renames() -> None:
        panel = page.locator("open-music-box-panel")
        panel.locator("#new-name").fill("Bedtime")
        panel.get_by_role("button", name="Create").click()
        tile = panel.get_by_role("button", name="Open Bedtime")
        expect(tile).to_be_visible()
        assert "Bedtime" in names(instance)
        tile.click()
        panel.get_by_role("button", name="Rename").click()
        panel.locator("#rename").fill("Bedtime songs")
        panel.get_by_role("button", name="Save").click()
        expect(panel.get_by_role("heading", name="Bedtime songs")).to_be_visible()
        current = names(instance)
        assert "Bedtime songs" in current
        assert "Bedtime" not in current

    def tracks_with_durations() -> None:
        panel = page.locator("open-music-box-panel")
        panel.get_by_role("button", name="Back to the playlists").click()
        panel.get_by_role("button", name="Open Animal Songs").click()
        expect(panel.locator("ul.list li")).to_have_count(5)
        expect(panel.locator("ul.list li").first).to_contain_text(":")

    step(page, instance, "panel_loads", loads)
    step(page, instance, "panel_blank_name", refuses_blank_name)
    step(page, instance, "panel_create_rename", creates_and_renames)
    step(page, instance, "panel_tracks", tracks_with_durations)


def test_card_plays_a_cover(instance: Instance, page: Page) -> None:
    """The card shows the covers; a tap plays the playlist and the progress bar moves."""

    def shows_covers() -> None:
        show_dashboard(page, instance, {"type": CARD, "entity": ENTITY_ID})
        card = page.locator("open-music-box-card")
        for name in DEMO_PLAYLISTS:
            expect(card.get_by_role("button", name=f"Play {name}")).to_be_visible()
        expect(card.get_by_role("button", name="Play Animal Songs").locator("img")).to_be_visible()
        assert cover_loaded(page, "Play Animal Songs")
        for label in ("Previous track", "Play", "Next track"):
            expect(card.get_by_role("button", name=label, exact=True)).to_be_visible()

    def plays_on_tap() -> None:
        card = page.locator("open-music-box-card")
        card.get_by_role("button", name="Play Animal Songs").click()
        expect(card.get_by_role("button", name="Pause", exact=True)).to_be_visible()
        state = instance.api.ok("GET", f"/api/states/{ENTITY_ID}")
        assert state["state"] == "playing"
        assert state["attributes"]["media_playlist"] == "Animal Songs"

    def progress_moves() -> None:
        bar = page.locator("open-music-box-card omb-progress-bar")
        read = "el => Number(getComputedStyle(el).getPropertyValue('--omb-progress'))"
        first = bar.evaluate(read)
        page.wait_for_timeout(1500)
        second = bar.evaluate(read)
        assert second > first, (first, second)

    step(page, instance, "card_covers", shows_covers)
    step(page, instance, "card_plays", plays_on_tap)
    step(page, instance, "card_progress", progress_moves)
    instance.api.ok("POST", "/api/services/media_player/media_stop", body={"entity_id": ENTITY_ID})


def test_card_editor_saves_a_config(instance: Instance, page: Page) -> None:
    """The visual editor gives a config (playlists, columns) that the card then follows."""

    def edits() -> None:
        page.goto(f"{instance.url}/")
        wait_for_hass(page)
        page.evaluate(
            """entity => {
              const editor = document.createElement('open-music-box-card-editor');
              editor.hass = document.querySelector('home-assistant').hass;
              editor.setConfig({ type: 'custom:open-music-box-card', entity });
              editor.addEventListener('config-changed', (e) => {
                window.ombConfig = e.detail.config;
              });
              editor.id = 'omb-editor';
              // Above Home Assistant's own page, as in its card editor dialog.
              editor.style.cssText = 'position:fixed;top:0;left:0;width:420px;z-index:10000;'
                + 'background:white;padding:16px';
              document.body.append(editor);
            }""",
            ENTITY_ID,
        )
        editor = page.locator("#omb-editor")
        editor.get_by_label("Lullabies").check()
        editor.get_by_label("Columns (0: as many as fit)").fill("2")
        editor.get_by_label("Columns (0: as many as fit)").press("Tab")
        config = page.evaluate("() => window.ombConfig")
        lullabies = next(
            p["id"]
            for p in instance.service("list_playlists")["playlists"]
            if p["name"] == "Lullabies"
        )
        assert config == {"type": CARD, "entity": ENTITY_ID, "playlists": [lullabies], "columns": 2}
        show_dashboard(page, instance, config)
        card = page.locator("open-music-box-card")
        expect(card.get_by_role("button", name="Play Lullabies")).to_be_visible()
        expect(card.locator("button.cover")).to_have_count(1)

    def saves_through_the_dashboard_editor() -> None:
        show_dashboard(page, instance, {"type": CARD, "entity": ENTITY_ID})
        page.goto(f"{instance.url}/{DASHBOARD}/kids?edit=1")
        # The card's "Edit" button (its label may come late: the editor's strings load lazily).
        page.locator("hui-card-options ha-button").first.click()
        editor = page.locator("hui-dialog-edit-card open-music-box-card-editor")
        expect(editor.get_by_label("Lullabies")).to_be_visible()
        editor.get_by_label("Favourites").check()
        editor.get_by_label("Columns (0: as many as fit)").fill("3")
        editor.get_by_label("Columns (0: as many as fit)").press("Tab")
        page.locator("hui-dialog-edit-card").get_by_role("button", name="Save").click()
        favourites = playlist_id(instance, "Favourites")
        wanted = {"type": CARD, "entity": ENTITY_ID, "playlists": [favourites], "columns": 3}
        saved = page.wait_for_function(
            """([url_path, wanted]) => document.querySelector('home-assistant').hass
              .callWS({ type: 'lovelace/config', url_path })
              .then(({ views: [{ cards: [card] }] }) =>
                JSON.stringify(card, Object.keys(card).sort()) === wanted)""",
            arg=[DASHBOARD, json.dumps(wanted, separators=(",", ":"), sort_keys=True)],
        )
        assert saved.json_value() is True

    step(page, instance, "card_editor", edits)
    step(page, instance, "card_editor_dialog", saves_through_the_dashboard_editor)


def playlist_id(instance: Instance, name: str) -> str:
    found: str = next(
        p["id"] for p in instance.service("list_playlists")["playlists"] if p["name"] == name
    )
    return found


def test_panel_tags(instance: Instance, page: Page) -> None:
    """A tag is linked by scanning it (followed live), relinked, unlinked; an unknown one linked."""
    panel = page.locator("open-music-box-panel")

    def scan(tag_id: str) -> None:
        instance.api.ok("POST", "/api/events/tag_scanned", body={"tag_id": tag_id})

    def links_by_scanning() -> None:
        page.goto(f"{instance.url}/open-music-box")
        panel.get_by_role("tab", name="Tags").click()
        panel.get_by_role("option", name="Lullabies").click()
        panel.get_by_role("button", name="Scan the tag now").click()
        expect(panel.get_by_role("status")).to_contain_text("Waiting for a tag")
        scan("browser-tag-1")
        expect(panel.get_by_role("status")).to_contain_text("Linked to Lullabies.")
        expect(panel.locator("ul.list li", has_text="browser-tag-1")).to_contain_text("Lullabies")

    def relinks_a_duplicate() -> None:
        panel.get_by_role("option", name="Animal Songs").click()
        panel.get_by_role("button", name="Scan the tag now").click()
        scan("browser-tag-1")
        expect(panel.get_by_role("status")).to_contain_text("This tag already starts Lullabies.")
        panel.get_by_role("button", name="Relink to Animal Songs").click()
        expect(panel.get_by_role("status")).to_contain_text("Linked to Animal Songs.")
        links = instance.service("list_tags")["tags"]
        assert [(t["tag_id"], t["playlist_name"]) for t in links] == [
            ("browser-tag-1", "Animal Songs")
        ]

    def unlinks() -> None:
        row = panel.locator("ul.list li", has_text="browser-tag-1")
        row.get_by_role("button", name="Unlink").click()
        expect(row).to_have_count(0)
        assert instance.service("list_tags")["tags"] == []

    def links_an_unknown_tag() -> None:
        call_ws(page, {"type": "tag/create", "tag_id": "blue-star", "name": "Blue star"})
        # The unknown-tag notification's link opens the Tags view directly.
        page.goto(f"{instance.url}/{TAGS_PANEL_URL.lstrip('/')}")
        expect(panel.get_by_role("tab", name="Tags")).to_have_attribute("aria-selected", "true")
        unknown = panel.locator(".card", has_text="Unknown tags")
        unknown.locator("li", has_text="blue-star").get_by_role("button", name="Link…").click()
        expect(panel.get_by_text("Choose the playlist for tag blue-star:")).to_be_visible()
        panel.get_by_role("option", name="Favourites").click()
        linked = panel.locator(".card", has_text="Linked tags")
        expect(linked.locator("li", has_text="blue-star")).to_contain_text("Favourites")
        expect(panel.get_by_text("Unknown tags")).to_have_count(0)
        linked.locator("li", has_text="blue-star").get_by_role("button", name="Unlink").click()
        expect(linked.locator("li", has_text="blue-star")).to_have_count(0)

    step(page, instance, "tags_link", links_by_scanning)
    step(page, instance, "tags_relink", relinks_a_duplicate)
    step(page, instance, "tags_unlink", unlinks)
    step(page, instance, "tags_unknown", links_an_unknown_tag)


def test_rooms_view(instance: Instance, page: Page) -> None:
    """The Rooms view lists the demo room with its member, connected."""

    def lists_the_room() -> None:
        page.goto(f"{instance.url}/open-music-box")
        panel = page.locator("open-music-box-panel")
        panel.get_by_role("tab", name="Rooms").click()
        room = panel.locator(".card", has_text="Living room")
        expect(room).to_contain_text("Idle")
        expect(room.locator("tbody tr")).to_have_count(1)
        expect(room.locator("tbody tr")).to_contain_text("audio output of this host")
        expect(room.locator("tbody tr")).to_contain_text("connected")

    step(page, instance, "rooms_view", lists_the_room)


def test_card_on_a_room(instance: Instance, page: Page) -> None:
    """The card drives a room as it drives the box: a tap plays the playlist in the room."""

    def plays_in_the_room() -> None:
        show_dashboard(page, instance, {"type": CARD, "entity": ROOM_ENTITY_ID})
        card = page.locator("open-music-box-card")
        card.get_by_role("button", name="Play Favourites").click()
        expect(card.get_by_role("button", name="Pause", exact=True)).to_be_visible()
        state = instance.api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")
        assert state["state"] == "playing"

    step(page, instance, "card_room", plays_in_the_room)
    instance.api.ok(
        "POST", "/api/services/media_player/media_stop", body={"entity_id": ROOM_ENTITY_ID}
    )


def test_in_french(instance: Instance, browser: Browser) -> None:
    """A French-speaking user gets the panel, its errors and the card in French."""
    with french_page(browser, instance) as page:

        def panel_in_french() -> None:
            page.goto(f"{instance.url}/open-music-box")
            panel = page.locator("open-music-box-panel")
            expect(panel.get_by_role("tab", name="Bibliothèque")).to_be_visible()
            panel.locator("#new-name").fill(" ")
            panel.get_by_role("button", name="Créer").click()
            expect(panel.get_by_role("alert")).to_contain_text(
                "Un nom de playlist doit compter de 1 à 100 caractères"
            )

        def card_in_french() -> None:
            show_dashboard(page, instance, {"type": CARD, "entity": ENTITY_ID})
            card = page.locator("open-music-box-card")
            expect(card.get_by_role("button", name="Écouter Lullabies")).to_be_visible()
            expect(card.get_by_role("button", name="Piste suivante")).to_be_visible()

        step(page, instance, "french_panel", panel_in_french)
        step(page, instance, "french_card", card_in_french)


def test_children_view(instance: Instance, page: Page) -> None:
    """The maximum volume, the volume at start and the sleep timer are set from the panel."""
    panel = page.locator("open-music-box-panel")

    def sets_the_limits() -> None:
        page.goto(f"{instance.url}/open-music-box")
        panel.get_by_role("tab", name="Children").click()
        panel.locator("#default").fill("30")
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        expect(panel.get_by_text("Volume at start: 30 %")).to_be_visible()
        panel.locator("#max").fill("60")
        expect(panel.get_by_text("Maximum volume: 60 %")).to_be_visible()
        deadline = time.monotonic() + 30  # the label moves at once; the box answers after
        url = "/api/states/number.music_box_max_volume"
        while float(instance.api.ok("GET", url)["state"]) != 60:
            assert time.monotonic() < deadline, "the maximum volume did not land in the box"
            page.wait_for_timeout(200)
        entries = instance.api.ok("GET", "/api/config/config_entries/entry?domain=open_music_box")
        assert entries[0]["entry_id"] == instance.entry_id

    def refuses_a_default_above_the_maximum() -> None:
        panel.locator("#default").fill("90")
        expect(panel.get_by_role("alert")).to_have_text(
            "The default volume cannot be above the maximum volume."
        )
        expect(panel.get_by_text("Volume at start: 30 %")).to_be_visible()

    def sleep_timer() -> None:
        panel.get_by_role("button", name="30 minutes").click()
        expect(panel.get_by_text(re.compile(r"^Ends at \d"))).to_be_visible()
        panel.get_by_role("button", name="Cancel the timer").click()
        expect(panel.get_by_text("No timer running.")).to_be_visible()

    step(page, instance, "children_limits", sets_the_limits)
    step(page, instance, "children_default_above_max", refuses_a_default_above_the_maximum)
    step(page, instance, "children_sleep_timer", sleep_timer)
    instance.api.ok(
        "POST",
        "/api/services/number/set_value",
        body={"entity_id": "number.music_box_max_volume", "value": 100},
    )


def test_panel_reorder(instance: Instance, page: Page) -> None:
    """A playlist of one's own: reordered by drag and drop and by buttons, deleted; a rescan."""
    panel = page.locator("open-music-box-panel")
    page.goto(f"{instance.url}/open-music-box")

    source = playlist_id(instance, "Animal Songs")
    tracks = instance.service("get_playlist", playlist_id=source)["track_ids"]
    instance.service("create_playlist", name="Dragged", track_ids=tracks[:3])

    def reorders_by_drag_and_drop() -> None:
        panel.get_by_role("tab", name="Library").click()
        panel.get_by_role("button", name="Open Dragged").click()
        rows = panel.locator("ul.list li")
        expect(rows).to_have_count(3)
        first = rows.nth(0).text_content()
        rows.nth(0).drag_to(rows.nth(2))
        expect(rows.nth(2)).to_have_text(first or "")
        order = instance.service("get_playlist", playlist_id=playlist_id(instance, "Dragged"))
        assert order["track_ids"] == [tracks[1], tracks[2], tracks[0]]

    def moves_with_buttons() -> None:
        title = (panel.locator("ul.list li").nth(0).locator(".grow").text_content() or "").split(
            " · "
        )[0]
        panel.get_by_role("button", name=f"Move {title.strip()} down").click()
        rows = panel.locator("ul.list li")
        expect(rows.nth(1)).to_contain_text(title.strip())
        order = instance.service("get_playlist", playlist_id=playlist_id(instance, "Dragged"))
        assert order["track_ids"] == [tracks[2], tracks[1], tracks[0]]

    def deletes() -> None:
        page.once("dialog", lambda dialog: dialog.accept())
        panel.get_by_role("button", name="Delete").click()
        expect(panel.get_by_role("button", name="Open Animal Songs")).to_be_visible()
        expect(panel.get_by_role("button", name="Open Dragged")).to_have_count(0)
        assert "Dragged" not in names(instance)

    def rescans() -> None:
        panel.get_by_role("button", name="Rescan the library").click()
        expect(panel.get_by_role("button", name="Rescan the library")).to_be_enabled()
        expect(panel.get_by_role("button", name="Open Lullabies")).to_be_visible()

    step(page, instance, "library_reorder", reorders_by_drag_and_drop)
    step(page, instance, "library_move_buttons", moves_with_buttons)
    step(page, instance, "library_delete", deletes)
    step(page, instance, "library_rescan", rescans)


def test_card_for_a_child_account(instance: Instance, page: Page, browser: Browser) -> None:
    """A user who is not an administrator plays from the card and has no panel in the sidebar."""
    user = call_ws(
        page, {"type": "config/auth/create", "name": "Emma", "group_ids": ["system-users"]}
    )
    call_ws(
        page,
        {
            "type": "config/auth_provider/homeassistant/create",
            "user_id": user["user"]["id"],
            "username": "emma",
            "password": "emma-password",
        },
    )
    show_dashboard(page, instance, {"type": CARD, "entity": ENTITY_ID})
    context = browser.new_context(viewport={"width": 360, "height": 800})
    child = context.new_page()
    try:
        log_in(child, instance, "emma", "emma-password")

        def plays() -> None:
            child.goto(f"{instance.url}/{DASHBOARD}/kids")
            card = child.locator("open-music-box-card")
            card.get_by_role("button", name="Play Lullabies").click()
            expect(card.get_by_role("button", name="Pause", exact=True)).to_be_visible()
            assert cover_loaded(child, "Play Lullabies")
            card.get_by_role("button", name="Pause", exact=True).click()
            expect(card.get_by_role("button", name="Play", exact=True)).to_be_visible()
            state = instance.api.ok("GET", f"/api/states/{ENTITY_ID}")
            assert state["state"] == "paused"
            # 360 px wide: the card fits, two covers a row.
            box = card.locator("ha-card").bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 360
            tops = card.locator("button.cover").evaluate_all(
                "covers => covers.map((cover) => cover.getBoundingClientRect().top)"
            )
            assert tops[0] == tops[1] < tops[2]

        def no_panel() -> None:
            # Home Assistant gives a user who is not an administrator no admin panels at all.
            panels = "() => Object.keys(document.querySelector('home-assistant').hass.panels)"
            assert "open-music-box" not in child.evaluate(panels)
            assert "open-music-box" in page.evaluate(panels)

        step(child, instance, "child_plays", plays)
        step(child, instance, "child_no_panel", no_panel)
    finally:
        context.close()


def test_card_in_dark_mode(instance: Instance, browser: Browser) -> None:
    """With a dark theme (the system's, as Home Assistant follows it) the card is dark too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    try:
        log_in(page, instance)

        def dark() -> None:
            show_dashboard(page, instance, {"type": CARD, "entity": ENTITY_ID})
            card = page.locator("open-music-box-card")
            expect(card.get_by_role("button", name="Play Lullabies")).to_be_visible()
            luminance = """el => {
              const [r, g, b] = getComputedStyle(el).%s.match(/[0-9.]+/g).map(Number);
              return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
            }"""
            assert card.locator("ha-card").evaluate(luminance % "backgroundColor") < 0.3
            assert card.locator(".title").evaluate(luminance % "color") > 0.7

        step(page, instance, "card_dark", dark)
    finally:
        context.close()
