"""The automation blueprints: imported into HA, used by automations, fired; the real box reacts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import json
from pathlib import Path
import re
import shutil
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from homeassistant.components.event import EventEntity
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.components.tag import async_scan_tag
from homeassistant.const import ATTR_ENTITY_ID, STATE_IDLE, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    setup_test_component_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import CONF_MAX_VOLUME, DOMAIN

from .conftest import ENTITY_ID
from .helpers.player import playlist_id, state

ROOT = Path(__file__).parent.parent
FOLDER = ROOT / "blueprints" / "automation" / "open_music_box"
FILES = sorted(path.name for path in FOLDER.glob("*.yaml"))
REPOSITORY = json.loads((ROOT / "custom_components" / DOMAIN / "manifest.json").read_text())[
    "documentation"
]
IMPORT_LINK = re.compile(
    r"https://my\.home-assistant\.io/create-link/\?redirect=blueprint_import&[^)\s]+"
)


def raw_url(name: str) -> str:
    """Return the raw URL of a blueprint file in the repository (what the README links)."""
    repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://raw.githubusercontent.com/{repo}/main/blueprints/automation/{DOMAIN}/{name}"


async def play(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> None:
    """Start a playlist on the box."""
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_PLAY_MEDIA,
        {
            ATTR_ENTITY_ID: ENTITY_ID,
            ATTR_MEDIA_CONTENT_ID: f"playlist:{playlist_id(entry, name)}",
            ATTR_MEDIA_CONTENT_TYPE: "playlist",
        },
        blocking=True,
    )
    assert state(hass).state == STATE_PLAYING


@pytest.fixture
async def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config dir of this test's own, holding the blueprints as HA's blueprint folder does."""
    config = tmp_path / "config"
    hass.config.config_dir = str(config)
    target = Path(hass.config.path("blueprints", "automation", DOMAIN))
    await hass.async_add_executor_job(shutil.copytree, FOLDER, target)
    return config


async def automation(hass: HomeAssistant, blueprint: str, **inputs: Any) -> str:
    """Create one automation from a blueprint (YAML config, as a user would); return its entity."""
    config = {
        "id": "from_blueprint",
        "alias": "From blueprint",
        "use_blueprint": {"path": f"{DOMAIN}/{blueprint}", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    assert state(hass, "automation.from_blueprint").state == "on"
    return "automation.from_blueprint"


# The files -----------------------------------------------------------------------------


def test_there_are_four_blueprints() -> None:
    """Tag → playlist, remote buttons, tag lifted, bedtime."""
    assert FILES == [
        "bedtime.yaml",
        "pause_when_tag_lifted.yaml",
        "play_playlist_on_tag.yaml",
        "remote_buttons.yaml",
    ]


async def test_blueprints_import_from_the_readme_links(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,  # before the box: it takes HA's shared web session
    entry: MockConfigEntry,
    config_dir: Path,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Each README link imports its file through HA's importer; HA lists them all without error."""
    links = IMPORT_LINK.findall((ROOT / "README.md").read_text("utf-8"))
    urls = {unquote(parse_qs(urlparse(link).query)["blueprint_url"][0]) for link in links}
    assert urls == {raw_url(name) for name in FILES}
    assert await async_setup_component(hass, "automation", {})
    client = await hass_ws_client(hass)
    for name in FILES:
        content = (FOLDER / name).read_text("utf-8")
        aioclient_mock.get(raw_url(name), text=content)
        await client.send_json_auto_id({"type": "blueprint/import", "url": raw_url(name)})
        reply = await client.receive_json()
        assert reply["success"], reply
        imported = reply["result"]
        assert imported["validation_errors"] is None
        assert imported["blueprint"]["metadata"]["domain"] == "automation"
        assert imported["blueprint"]["metadata"]["source_url"] == raw_url(name)
        await client.send_json_auto_id(
            {
                "type": "blueprint/save",
                "domain": "automation",
                "path": imported["suggested_filename"],
                "yaml": imported["raw_data"],
                "source_url": raw_url(name),
            }
        )
        reply = await client.receive_json()
        assert reply["success"], reply
    await client.send_json_auto_id({"type": "blueprint/list", "domain": "automation"})
    reply = await client.receive_json()
    listed = reply["result"]
    for name in FILES:
        for path in (f"{DOMAIN}/{name}", f"open-music-box/{name}"):  # copied, and imported
            assert "error" not in listed[path], listed[path]
            metadata = listed[path]["metadata"]
            assert metadata["name"].startswith("Open Music Box \N{EN DASH} ")
    # The files in the repository point at themselves.
    for name in FILES:
        source = listed[f"{DOMAIN}/{name}"]["metadata"]["source_url"]
        assert source == f"{REPOSITORY}/blob/main/blueprints/automation/{DOMAIN}/{name}"


# 1. Tag → playlist -----------------------------------------------------------------------


@pytest.mark.parametrize("given", ["{id}", "playlist:{id}", " {id} "])
async def test_tag_plays_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, given: str
) -> None:
    """Scanning the tag starts the playlist (its id given bare or as a media id)."""
    assert await async_setup_component(hass, "tag", {})
    await automation(
        hass,
        "play_playlist_on_tag.yaml",
        tag_id="04a1b2c3d4",
        playlist_id=given.format(id=playlist_id(entry, "Audiobook")),
        music_box=ENTITY_ID,
    )
    await async_scan_tag(hass, "another-tag", None)
    await hass.async_block_till_done()
    assert state(hass).state == STATE_IDLE
    await async_scan_tag(hass, "04a1b2c3d4", None)
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_playlist"] == "Audiobook"
    assert entry.runtime_data.player.playlist_id == playlist_id(entry, "Audiobook")


# 2. Remote buttons --------------------------------------------------------------------------


class RemoteButton(EventEntity):
    """A button of a remote, as Hue, Matter or ESPHome expose them."""

    _attr_event_types = ["press", "hold"]  # noqa: RUF012 - HA's attribute style
    _attr_should_poll = False

    def __init__(self, name: str) -> None:
        self._attr_name = name

    def press(self, event_type: str = "press") -> None:
        """Fire one event, as the remote's integration does."""
        self._trigger_event(event_type)
        self.async_write_ha_state()


@pytest.fixture
async def remote(hass: HomeAssistant) -> dict[str, RemoteButton]:
    """Five buttons (event entities)."""
    buttons = {
        name: RemoteButton(f"Remote {name.replace('_', ' ')}")
        for name in ("play_pause", "next_track", "previous_track", "volume_up", "volume_down")
    }
    setup_test_component_platform(hass, "event", list(buttons.values()))
    assert await async_setup_component(hass, "event", {"event": {"platform": "test"}})
    await hass.async_block_till_done()
    return buttons


async def press(hass: HomeAssistant, button: RemoteButton, event_type: str = "press") -> None:
    """Press a button and let the automation act."""
    await asyncio.sleep(0.005)  # an event entity's state is a timestamp in milliseconds
    button.press(event_type)
    await hass.async_block_till_done()


async def test_remote_buttons(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    config_dir: Path,
    remote: dict[str, RemoteButton],
) -> None:
    """Play/pause, next, previous, volume up and down; other event types are ignored."""
    await automation(
        hass,
        "remote_buttons.yaml",
        music_box=ENTITY_ID,
        event_types=["press"],
        **{name: [button.entity_id] for name, button in remote.items()},
    )
    await play(hass, entry, "Audiobook")
    await press(hass, remote["play_pause"])
    assert state(hass).state == STATE_PAUSED
    await press(hass, remote["play_pause"], "hold")  # not a "press": nothing
    assert state(hass).state == STATE_PAUSED
    await press(hass, remote["play_pause"])
    assert state(hass).state == STATE_PLAYING
    await press(hass, remote["next_track"])
    assert state(hass).attributes["media_title"] == "Chapter 2"
    await press(hass, remote["previous_track"])  # within 3 s of the start: the previous track
    assert state(hass).attributes["media_title"] == "Chapter 1"
    await press(hass, remote["volume_up"])
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.55)
    await press(hass, remote["volume_down"])
    await press(hass, remote["volume_down"])
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.45)


async def test_remote_with_one_button_and_any_event(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    config_dir: Path,
    remote: dict[str, RemoteButton],
) -> None:
    """Buttons left empty are skipped; with no event types given every event counts."""
    await automation(
        hass, "remote_buttons.yaml", music_box=ENTITY_ID, play_pause=remote["play_pause"].entity_id
    )
    await play(hass, entry, "Audiobook")
    await press(hass, remote["next_track"])  # not configured
    assert state(hass).attributes["media_title"] == "Chapter 1"
    await press(hass, remote["play_pause"], "hold")
    assert state(hass).state == STATE_PAUSED


# 3. Pause when the tag is lifted ---------------------------------------------------------------

READER = "binary_sensor.reader_tag_present"


async def test_pause_when_tag_lifted_resume_when_back(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """The reader's binary sensor off pauses a playing box; on resumes a paused one."""
    hass.states.async_set(READER, "on")  # as an ESPHome reader reports it
    await automation(hass, "pause_when_tag_lifted.yaml", tag_present=READER, music_box=ENTITY_ID)
    hass.states.async_set(READER, "off")  # lifted while idle: nothing to pause
    await hass.async_block_till_done()
    assert state(hass).state == STATE_IDLE
    hass.states.async_set(READER, "on")  # put back while idle: nothing to resume
    await hass.async_block_till_done()
    assert state(hass).state == STATE_IDLE
    await play(hass, entry, "Audiobook")
    hass.states.async_set(READER, "off")
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PAUSED
    hass.states.async_set(READER, "unavailable")  # the reader restarts: nothing happens
    hass.states.async_set(READER, "on")
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PAUSED
    hass.states.async_set(READER, "off")
    hass.states.async_set(READER, "on")
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes["media_title"] == "Chapter 1"


async def test_tag_lifted_grace_period(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """With a grace period, a tag lifted and put back at once does not pause."""
    hass.states.async_set(READER, "on")
    await automation(
        hass, "pause_when_tag_lifted.yaml", tag_present=READER, music_box=ENTITY_ID, grace=5
    )
    await play(hass, entry, "Audiobook")
    hass.states.async_set(READER, "off")
    await hass.async_block_till_done()
    hass.states.async_set(READER, "on")  # back within 5 s
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PLAYING
    hass.states.async_set(READER, "off")
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PLAYING
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()
    assert state(hass).state == STATE_PAUSED


# 4. Bedtime --------------------------------------------------------------------------------


def max_volume_entity(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the box's "Max volume" number entity."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "number", DOMAIN, f"{entry.entry_id}_max_volume"
    )
    assert entity_id is not None
    return entity_id


def bedtime_inputs(hass: HomeAssistant, entry: MockConfigEntry, at: datetime) -> dict[str, Any]:
    """Inputs of the bedtime blueprint for a bedtime at `at` (local time)."""
    return {
        "bedtime": at.strftime("%H:%M:%S"),
        "music_box": ENTITY_ID,
        "max_volume_entity": max_volume_entity(hass, entry),
        "max_volume": 30,
        "sleep_minutes": 20,
    }


async def test_bedtime_caps_volume_and_starts_sleep_timer(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """At bedtime the maximum volume drops (the volume with it) and the sleep timer starts."""
    at = (dt_util.now() + timedelta(minutes=2)).replace(microsecond=0)
    await automation(hass, "bedtime.yaml", **bedtime_inputs(hass, entry, at))
    await play(hass, entry, "Audiobook")
    assert entry.runtime_data.sleep_timer.ends_at is None
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.5)
    async_fire_time_changed(hass, at + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert entry.options[CONF_MAX_VOLUME] == 30
    assert state(hass, max_volume_entity(hass, entry)).state == "30.0"
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.3)
    ends_at = entry.runtime_data.sleep_timer.ends_at
    assert ends_at is not None
    left = ends_at - dt_util.utcnow()
    assert timedelta(minutes=19) < left <= timedelta(minutes=20)
    assert state(hass).state == STATE_PLAYING


async def test_bedtime_only_on_chosen_days(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """On a day that is not chosen, nothing happens at bedtime."""
    at = (dt_util.now() + timedelta(minutes=2)).replace(microsecond=0)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    other_days = [day for index, day in enumerate(days) if index != at.weekday()]
    await automation(hass, "bedtime.yaml", weekdays=other_days, **bedtime_inputs(hass, entry, at))
    async_fire_time_changed(hass, at + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert entry.options[CONF_MAX_VOLUME] == 100
    assert entry.runtime_data.sleep_timer.ends_at is None
