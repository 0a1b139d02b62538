"""The panel's Rooms and Children views in a real browser, against a real Home Assistant.

A real reference satellite (`omb-satellite`, mpv's null output) joins the demo room: its live
error shows in the room's member list. A media player of another integration (HA's `universal`,
from a YAML package) is added to the room and removed, and an offset set, from the panel; the
children's limits and a tag reader's room set from the panel land in the box. On failure the
screenshot and HA's log go to tests/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

from playwright.sync_api import Page, expect
import pytest
import pytest_socket

from .harness import ROOM_ENTITY_ID, ROOT, Instance, home_assistant, step

pytestmark = pytest.mark.browser

SPEAKER = "media_player.kitchen_speaker"
READER = "hall-reader-01"  # a tag reader's device id (not in the device registry: named by it)
SATELLITE = "Kitchen satellite"
# A package of the config dir (script/dev_config.py keeps packages/*.yaml): a media player of
# another integration, with no network.
SPEAKER_PACKAGE = "media_player:\n  - platform: universal\n    name: Kitchen speaker\n"


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """Home Assistant as script/develop runs it, with one more media player."""
    pytest_socket.enable_socket()  # set up before the first test's own socket_enabled
    config = tmp_path_factory.mktemp("ha") / "config"
    (config / "packages").mkdir(parents=True)
    (config / "packages" / "kitchen.yaml").write_text(SPEAKER_PACKAGE, encoding="utf-8")
    with home_assistant(config) as running:
        yield running


@pytest.fixture(scope="module")
def satellite(instance: Instance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference satellite in the demo room, as its own process; yields the room id."""
    room_id = instance.api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")["attributes"]["room_id"]
    home = tmp_path_factory.mktemp("satellite")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "satellite"),
        "OMB_TOKEN": instance.api.token,
        "XDG_CONFIG_HOME": str(home),
    }
    command = [sys.executable, "-m", "omb_satellite", "--url", instance.url, "--room", room_id]
    command += ["--name", SATELLITE, "--ao", "null", "--identity", str(home / "id")]
    log = (home / "satellite.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield room_id
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)", message
    )


def subentry(instance: Instance, room_id: str) -> dict[str, Any]:
    """The room's stored settings, read from Home Assistant's storage (written at once)."""
    stored = json.loads((instance.log.parent / ".storage" / "core.config_entries").read_text())
    entry = next(e for e in stored["data"]["entries"] if e["entry_id"] == instance.entry_id)
    found: dict[str, Any] = next(s for s in entry["subentries"] if s["subentry_id"] == room_id)
    return found


def stored_options(instance: Instance) -> dict[str, Any]:
    """The box's options, read from Home Assistant's storage."""
    stored = json.loads((instance.log.parent / ".storage" / "core.config_entries").read_text())
    entry = next(e for e in stored["data"]["entries"] if e["entry_id"] == instance.entry_id)
    options: dict[str, Any] = entry["options"]
    return options


def open_view(page: Page, instance: Instance, tab: str) -> Any:
    page.goto(f"{instance.url}/open-music-box?tab={tab}")
    return page.locator("open-music-box-panel")


def play_room(instance: Instance) -> None:
    """Play the audiobook (3 x 10 min) in the demo room."""
    playlists = instance.service("list_playlists")["playlists"]
    book = next(p for p in playlists if p["name"] == "The Sleepy Lighthouse")
    instance.api.ok(
        "POST",
        "/api/services/media_player/play_media",
        body={
            "entity_id": ROOM_ENTITY_ID,
            "media_content_id": f"playlist:{book['id']}",
            "media_content_type": "music",
        },
    )


def test_rooms_members_live_error_add_remove_offset(
    instance: Instance, page: Page, satellite: str
) -> None:
    """The satellite's live error shows; a player added, an offset set, a member removed."""
    panel = page.locator("open-music-box-panel")
    room = panel.locator(".card", has_text="Living room")

    def shows_the_satellite_error() -> None:
        open_view(page, instance, "rooms")
        row = room.locator("tr", has_text=SATELLITE)
        expect(row).to_contain_text("connected")
        play_room(instance)
        expect(room).to_contain_text("Playing")
        # A measured error (sign, value, ms), not the dash of "not measured".
        expect(row.locator(".error-ms")).to_have_text(re.compile(r"^[+−±]\d+\.\d ms$"))

    def adds_a_player() -> None:
        room.get_by_role("button", name="Add a member").click()
        room.get_by_role("combobox", name="Kind of member").select_option("entity")
        room.get_by_role("combobox", name="Member to add").select_option(SPEAKER)
        room.get_by_role("button", name="Add", exact=True).click()
        expect(room.locator(f'tr[data-member="entity:{SPEAKER}"]')).to_be_visible()
        members = subentry(instance, satellite)["data"]["entity_members"]
        assert members == [{"entity_id": SPEAKER, "offset_ms": 0.0}]

    def sets_an_offset() -> None:
        offset = room.get_by_role("spinbutton", name="Offset of Kitchen speaker in ms")
        offset.fill("35")
        room.get_by_role("button", name="Set the offset of Kitchen speaker").click()
        expect(offset).to_have_value("35")
        eventually(
            page,
            lambda: subentry(instance, satellite)["data"]["entity_members"][0]["offset_ms"] == 35,
            "the offset did not land in the room",
        )

    def removes_it() -> None:
        room.get_by_role("button", name="Remove Kitchen speaker from the room").click()
        expect(room.locator(f'tr[data-member="entity:{SPEAKER}"]')).to_have_count(0)
        assert subentry(instance, satellite)["data"]["entity_members"] == []
        expect(room.locator("tr", has_text=SATELLITE)).to_be_visible()

    def refuses_an_offset_out_of_range() -> None:
        row = room.locator("tr", has_text=SATELLITE)
        row.get_by_role("spinbutton").fill("5000")
        row.get_by_role("button", name=f"Set the offset of {SATELLITE}").click()
        expect(panel.get_by_role("alert")).to_be_visible()

    step(page, instance, "rooms_satellite_error", shows_the_satellite_error)
    step(page, instance, "rooms_add_player", adds_a_player)
    step(page, instance, "rooms_offset", sets_an_offset)
    step(page, instance, "rooms_remove", removes_it)
    step(page, instance, "rooms_offset_refused", refuses_an_offset_out_of_range)
    instance.api.ok(
        "POST", "/api/services/media_player/media_stop", body={"entity_id": ROOM_ENTITY_ID}
    )


def entity_state(instance: Instance, entity_id: str) -> str:
    state: str = instance.api.ok("GET", f"/api/states/{entity_id}")["state"]
    return state


def eventually(page: Page, check: Any, what: str) -> None:
    """Wait until check() holds: "Saved." may still show from the step before."""
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)


def test_children_limits_land_in_the_box(instance: Instance, page: Page) -> None:
    """The daily limit, extra minutes, bedtime rules and playlists, the lock: set in the box."""
    panel = page.locator("open-music-box-panel")

    def status() -> dict[str, Any]:
        found: dict[str, Any] = call_ws(
            page, {"type": "open_music_box/children/get", "entry_id": instance.entry_id}
        )
        return found

    def daily_limit() -> None:
        open_view(page, instance, "children")
        limit = panel.locator('[data-section="limit"]')
        limit.locator("#daily-limit").fill("45")
        limit.get_by_role("button", name="Save").click()
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        eventually(
            page,
            lambda: float(entity_state(instance, "number.music_box_daily_limit")) == 45,
            "the daily limit did not land in the box",
        )
        limit.get_by_role("button", name="Grant 15 extra minutes today").click()
        expect(limit).to_contain_text("limit 60 min")
        eventually(page, lambda: status()["daily_limit"]["extra_minutes"] == 15, "no extra minutes")

    def bedtime() -> None:
        section = panel.locator('[data-section="bedtime"]')
        section.locator("#bedtime-start").fill("20:15")
        section.locator("#bedtime-max").fill("25")
        section.get_by_role("button", name="Save bedtime").click()
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        eventually(
            page,
            lambda: entity_state(instance, "time.music_box_bedtime_start") == "20:15:00",
            "bedtime's start did not land in the box",
        )
        section.get_by_role("checkbox", name="Lullabies").check()
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        playlists = instance.service("list_playlists")["playlists"]
        lullabies = next(p["id"] for p in playlists if p["name"] == "Lullabies")
        eventually(
            page, lambda: status()["bedtime_playlists"] == [lullabies], "no bedtime playlist"
        )
        section.get_by_role("button", name="Start bedtime now").click()
        expect(section).to_contain_text("It is bedtime")
        eventually(
            page,
            lambda: entity_state(instance, "switch.music_box_bedtime") == "on",
            "bedtime did not start",
        )
        section.get_by_role("button", name="End bedtime now").click()
        expect(section).to_contain_text("It is not bedtime")

    def lock() -> None:
        panel.locator("#lock").check()
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        eventually(
            page,
            lambda: entity_state(instance, "switch.music_box_lock") == "on",
            "the lock did not land in the box",
        )
        panel.locator("#lock").uncheck()

    def readers() -> None:
        # A scan on a reader the box has not heard yet (a device id): the box lists it.
        instance.api.ok(
            "POST", "/api/events/tag_scanned", body={"tag_id": "04-B1", "device_id": READER}
        )
        room_id = instance.api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")["attributes"]["room_id"]
        open_view(page, instance, "children")
        choice = panel.get_by_role("combobox", name=f"Where {READER} plays")
        expect(choice).to_have_value("none")
        choice.select_option(label="Living room")
        expect(panel.get_by_role("status")).to_have_text("Saved.")
        # In the box's options, as the options flow stores it (HA writes its entries at once).
        eventually(
            page,
            lambda: stored_options(instance).get("readers") == {READER: room_id},
            "the reader's room did not land in the box",
        )
        found = call_ws(
            page, {"type": "open_music_box/children/readers", "entry_id": instance.entry_id}
        )
        assert found["readers"] == [{"device_id": READER, "name": READER, "assignment": room_id}]
        page.reload()
        expect(panel.get_by_role("combobox", name=f"Where {READER} plays")).to_have_value(room_id)

    step(page, instance, "children_daily_limit", daily_limit)
    step(page, instance, "children_bedtime", bedtime)
    step(page, instance, "children_lock", lock)
    step(page, instance, "children_readers", readers)
