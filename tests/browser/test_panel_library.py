"""The panel's Library view in a real browser: album/audiobook mode, adding tracks from the
library, removing and moving them, uploads through Home Assistant's media upload, and a long
playlist that renders only the rows in view. Each change is checked in the box.

On failure the page's screenshot and Home Assistant's log go to tests/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import time
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect
import pytest

from ..audio import write_wav
from .harness import Instance, french_page, step

pytestmark = pytest.mark.browser

# The Library view's track rows (inside the virtualized list's shadow root; CSS pierces it).
ROWS = "omb-playlist omb-virtual-list.tracks ul.list li"
PICKER_ROWS = "omb-track-picker ul.list li"


def eventually(check: Callable[[], bool], timeout: float = 60) -> None:
    """Wait until the box agrees (the folder watch, an event reaching Home Assistant)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the box never got there"
        time.sleep(0.3)


def playlist(instance: Instance, name: str) -> dict[str, Any]:
    """The box's playlist of that name, with its tracks."""
    found = next(p for p in instance.service("list_playlists")["playlists"] if p["name"] == name)
    result: dict[str, Any] = instance.service("get_playlist", playlist_id=found["id"])
    return result


def library_folder(instance: Instance) -> Path:
    """The demo library of the running Home Assistant (config/media/open_music_box)."""
    return instance.log.parent / "media" / "open_music_box"


def open_playlist(page: Page, instance: Instance, name: str) -> Locator:
    page.goto(f"{instance.url}/open-music-box")
    panel = page.locator("open-music-box-panel")
    panel.get_by_role("button", name=f"Open {name}").click()
    expect(panel.get_by_role("heading", name=name)).to_be_visible()
    return panel


def test_audiobook_mode(instance: Instance, page: Page) -> None:
    """The mode is toggled in the playlist's view; the box has it."""

    def toggles() -> None:
        panel = open_playlist(page, instance, "Lullabies")
        box = panel.get_by_label("Audiobook: starts again where it stopped")
        expect(box).not_to_be_checked()
        box.check()
        eventually(lambda: playlist(instance, "Lullabies")["mode"] == "audiobook")
        page.reload()
        panel.get_by_role("button", name="Open Lullabies").click()
        expect(panel.get_by_label("Audiobook: starts again where it stopped")).to_be_checked()
        panel.get_by_label("Audiobook: starts again where it stopped").uncheck()
        eventually(lambda: playlist(instance, "Lullabies")["mode"] == "album")

    step(page, instance, "library_mode", toggles)


def test_add_remove_and_move(instance: Instance, page: Page) -> None:
    """Tracks are added from the library (one, a folder), removed, moved to another playlist."""
    instance.service("create_playlist", name="Picked")
    instance.service("create_playlist", name="Elsewhere")
    panel = page.locator("open-music-box-panel")

    def adds_from_the_library() -> None:
        open_playlist(page, instance, "Picked")
        expect(panel.get_by_text("No tracks")).to_be_visible()
        panel.get_by_role("button", name="Add tracks").click()
        panel.get_by_label("Search the library").fill("elephant")
        expect(panel.locator(PICKER_ROWS)).to_have_count(1)
        panel.get_by_role("button", name="Add Elephant March").click()
        expect(panel.locator(ROWS)).to_have_count(1)
        expect(panel.locator(ROWS).first).to_contain_text("Elephant March")
        # A folder, in its own order.
        panel.get_by_label("Search the library").fill("lullabies")
        panel.get_by_role("button", name="Add every track of Lullabies").click()
        lullabies = playlist(instance, "Lullabies")["track_ids"]
        expect(panel.locator(ROWS)).to_have_count(1 + len(lullabies))
        picked = playlist(instance, "Picked")
        assert picked["track_ids"][1:] == lullabies
        assert [t["title"] for t in picked["tracks"]][0] == "Elephant March"
        panel.get_by_role("button", name="Done").click()
        expect(panel.locator("omb-track-picker")).to_have_count(0)

    def removes() -> None:
        panel.get_by_role("button", name="Remove Elephant March").click()
        expect(panel.locator(ROWS, has_text="Elephant March")).to_have_count(0)
        picked = playlist(instance, "Picked")
        assert "Elephant March" not in [t["title"] for t in picked["tracks"]]

    def moves_to_another_playlist() -> None:
        first = playlist(instance, "Picked")["tracks"][0]
        panel.get_by_role("button", name=f"Move {first['title']} to another playlist").click()
        panel.get_by_label(f"Move {first['title']} to:").select_option(label="Elsewhere")
        panel.get_by_role("button", name="Move", exact=True).click()
        expect(panel.locator(ROWS, has_text=first["title"])).to_have_count(0)
        assert first["track_id"] not in playlist(instance, "Picked")["track_ids"]
        assert playlist(instance, "Elsewhere")["track_ids"] == [first["track_id"]]

    def a_failed_add_changes_nothing() -> None:
        panel.get_by_role("button", name="Add tracks").click()
        panel.get_by_label("Search the library").fill("old macdonald")
        expect(panel.locator(PICKER_ROWS)).to_have_count(1)
        # The file goes (the folder watch rescans) while the picker still lists it.
        gone = next(library_folder(instance).glob("Animal Songs/*Old MacDonald*"))
        kept = gone.read_bytes()
        gone.unlink()
        try:
            eventually(lambda: len(playlist(instance, "Animal Songs")["track_ids"]) == 4)
            before = playlist(instance, "Picked")["track_ids"]
            panel.get_by_role("button", name="Add Old MacDonald").click()
            expect(panel.locator("omb-track-picker").get_by_role("alert")).to_contain_text(
                "There is no track with id"
            )
            assert playlist(instance, "Picked")["track_ids"] == before
        finally:
            gone.write_bytes(kept)
        eventually(lambda: len(playlist(instance, "Animal Songs")["track_ids"]) == 5)

    step(page, instance, "library_add", adds_from_the_library)
    step(page, instance, "library_remove", removes)
    step(page, instance, "library_move", moves_to_another_playlist)
    step(page, instance, "library_add_fails", a_failed_add_changes_nothing)


def test_upload(instance: Instance, page: Page, tmp_path: Path) -> None:
    """Files go through Home Assistant's media upload into the library; the box plays them."""
    panel = page.locator("open-music-box-panel")
    owl = write_wav(tmp_path / "06 - Owl.wav", 1.0, 500)
    hen = write_wav(tmp_path / "Hen.wav", 1.0, 600)
    notes = tmp_path / "notes.txt"
    notes.write_text("not music")

    def into_a_folder_playlist() -> None:
        open_playlist(page, instance, "Animal Songs")
        expect(panel.locator(ROWS)).to_have_count(5)
        panel.locator("#upload").set_input_files(owl)
        expect(panel.get_by_role("status")).to_contain_text("Uploaded: 06 - Owl.wav.")
        assert (library_folder(instance) / "Animal Songs" / owl.name).read_bytes() == (
            owl.read_bytes()
        )
        # The folder watch reads it: it shows without a rescan.
        expect(panel.locator(ROWS)).to_have_count(6)
        assert "06 - Owl" in [t["title"] for t in playlist(instance, "Animal Songs")["tracks"]]

    def refuses_what_is_not_audio() -> None:
        panel.locator("#upload").set_input_files([hen, notes])
        expect(panel.get_by_role("alert")).to_contain_text(
            "notes.txt is not an audio file the box plays"
        )
        assert not (library_folder(instance) / "Animal Songs" / hen.name).exists()
        # Home Assistant's upload would replace a file of the same name: refused before.
        owl.write_bytes(b"not the owl")
        panel.locator("#upload").set_input_files(owl)
        expect(panel.get_by_role("alert")).to_contain_text(
            "06 - Owl.wav is already in the library folder"
        )
        assert (
            library_folder(instance) / "Animal Songs" / owl.name
        ).read_bytes() != owl.read_bytes()
        expect(panel.locator(ROWS)).to_have_count(6)

    def into_a_playlist_of_ones_own() -> None:
        instance.service("create_playlist", name="Farm")
        panel.get_by_role("button", name="Back to the playlists").click()
        panel.get_by_role("button", name="Open Farm").click()
        panel.locator("#upload").set_input_files(hen)
        expect(panel.get_by_role("status")).to_contain_text("Uploaded and added: Hen.wav.")
        expect(panel.locator(ROWS)).to_have_count(1)
        assert (library_folder(instance) / "Uploads" / hen.name).exists()
        assert [t["title"] for t in playlist(instance, "Farm")["tracks"]] == ["Hen"]

    step(page, instance, "upload_folder", into_a_folder_playlist)
    step(page, instance, "upload_refused", refuses_what_is_not_audio)
    step(page, instance, "upload_user", into_a_playlist_of_ones_own)


def test_long_playlist(instance: Instance, page: Page) -> None:
    """1,000 tracks: only the rows in view are in the page; scrolling and dragging still work."""
    every = [
        tid
        for name in ("Animal Songs", "Lullabies")
        for tid in playlist(instance, name)["track_ids"]
    ]
    entries = [every[i % len(every)] for i in range(1000)]
    instance.service("create_playlist", name="Long", track_ids=entries)
    panel = page.locator("open-music-box-panel")

    def renders_a_window() -> None:
        open_playlist(page, instance, "Long")
        rows = panel.locator(ROWS)
        expect(rows.first).to_be_visible()
        assert 5 < rows.count() < 60
        scroller = panel.locator("omb-playlist omb-virtual-list.tracks .scroller")
        scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        expect(panel.locator(f"{ROWS}[data-index='999']")).to_be_visible()
        assert rows.count() < 60
        scroller.evaluate("el => { el.scrollTop = 0; }")
        expect(panel.locator(f"{ROWS}[data-index='0']")).to_be_visible()

    def drags_in_a_long_list() -> None:
        rows = panel.locator(ROWS)
        rows.nth(0).drag_to(rows.nth(2))
        expected = [entries[1], entries[2], entries[0], *entries[3:]]
        eventually(lambda: playlist(instance, "Long")["track_ids"] == expected)

    step(page, instance, "long_window", renders_a_window)
    step(page, instance, "long_drag", drags_in_a_long_list)


def test_in_french(instance: Instance, browser: Browser) -> None:
    """The new parts of the view speak French to a French-speaking user."""
    with french_page(browser, instance) as page:

        def in_french() -> None:
            instance.service("create_playlist", name="Mienne")
            page.goto(f"{instance.url}/open-music-box")
            panel = page.locator("open-music-box-panel")
            panel.get_by_role("button", name="Ouvrir Mienne").click()
            expect(
                panel.get_by_label("Livre audio : reprend là où il s'était arrêté")
            ).to_be_visible()
            panel.get_by_role("button", name="Ajouter des pistes").click()
            expect(panel.get_by_label("Chercher dans la bibliothèque")).to_be_visible()
            expect(panel.get_by_text("Envoyer des fichiers")).to_be_visible()

        step(page, instance, "library_french", in_french)
