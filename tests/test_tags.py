"""NFC tags: scans play linked playlists; association sessions; unknown tags; options; bad input.

Real HA core with its `tag` component (scans go through `tag.async_scan_tag`, as ESPHome and the
companion app do), real libmpv (ao=null), real WebSocket connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
import logging
from pathlib import Path
from typing import Any

from homeassistant.components import tag
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.open_music_box.children.resume import PlaylistMode
from custom_components.open_music_box.const import (
    CONF_SAME_TAG_ACTION,
    CONF_UNKNOWN_TAG_NOTIFICATION,
    DOMAIN,
    SAME_TAG_IGNORE,
    SAME_TAG_RESTART,
    SAME_TAG_TOGGLE,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.tag_model import MAX_TAG_ID_LENGTH
from custom_components.open_music_box.tag_notices import NOTIFICATION_ID
from custom_components.open_music_box.tags import (
    EVENT_TAG_ASSOCIATION,
    EVENT_TAG_SCANNED,
    EVENT_TAG_UNKNOWN,
    redacted,
)

from .conftest import box_entry, build_library

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
SENSOR = "sensor.music_box_last_tag"
READER = "reader-device-id"
TAG_A = "04-1A-3B-1C-5D-80-00"
TAG_B = "04-77-12-9A-21-80-00"
TIMEOUT = 20  # seconds; only a guard against a hang


@pytest.fixture(autouse=True)
async def tag_component(hass: HomeAssistant) -> None:
    """HA's tag component (what readers call) and notifications."""
    assert await async_setup_component(hass, "tag", {})
    assert await async_setup_component(hass, "persistent_notification", {})


# Helpers -----------------------------------------------------------------


async def scan(hass: HomeAssistant, tag_id: str, device_id: str | None = READER) -> None:
    """Scan a tag as a reader does, and wait for what it starts."""
    await tag.async_scan_tag(hass, tag_id, device_id)
    await hass.async_block_till_done()


async def act(
    hass: HomeAssistant, entry: MockConfigEntry, service: str, **data: Any
) -> dict[str, Any] | None:
    """Call one of our actions for the box; return its response when it has one."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=service
        in {"list_tags", "link_tag", "associate_tag", "override_tag", "cancel_association"},
    )
    await hass.async_block_till_done()
    return response


async def listed_tags(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    """Return the tag links the list_tags action answers."""
    listed = await act(hass, entry, "list_tags")
    assert listed is not None
    links: list[dict[str, Any]] = listed["tags"]
    return links


async def link(hass: HomeAssistant, entry: MockConfigEntry, tag_id: str, playlist: str) -> None:
    """Link a tag with the action."""
    await act(hass, entry, "link_tag", tag_id=tag_id, playlist_id=playlist)


def player(entry: MockConfigEntry) -> Any:
    """Return the box's player."""
    return entry.runtime_data.player


def track_id(entry: MockConfigEntry, title: str) -> str:
    """Return the id of a track of the generated library by title."""
    return next(t.id for t in entry.runtime_data.catalog.scan.tracks.values() if t.title == title)


def current_title(entry: MockConfigEntry) -> str | None:
    """Return the title of the track at the play position."""
    current = player(entry).current
    return None if current is None else current.title


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change the box's options (applied without a reload)."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    await hass.async_block_till_done()


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    """Return the persistent notifications by id."""
    return dict(_async_get_or_create_notifications(hass))


def states_of(events: list[Any]) -> list[str]:
    """Return the association states of captured bus events."""
    return [e.data["state"] for e in events]


class Ws:
    """A WebSocket connection that sends our commands and keeps the events of a subscription."""

    def __init__(self, client: MockHAClientWebSocket, entry_id: str) -> None:
        self.client = client
        self.entry_id = entry_id
        self.events: list[dict[str, Any]] = []
        self.sub_id: int | None = None

    async def call(self, command: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command and return its reply (events read meanwhile are kept)."""
        msg: dict[str, Any] = {"type": f"{DOMAIN}/{command}", "entry_id": self.entry_id, **fields}
        await self.client.send_json_auto_id(msg)
        while True:
            async with asyncio.timeout(TIMEOUT):
                reply = await self.client.receive_json()
            if reply["type"] == "event":
                self.events.append(reply["event"])
            elif reply["id"] == msg["id"]:
                return dict(reply)

    async def ok(self, command: str, /, **fields: Any) -> Any:
        """Send a command that must succeed; return its result."""
        reply = await self.call(command, **fields)
        assert reply["success"], reply
        return reply["result"]

    async def error(self, command: str, code: str, /, **fields: Any) -> dict[str, Any]:
        """Send a command that must fail with `code`; return the error."""
        reply = await self.call(command, **fields)
        assert not reply["success"], reply
        assert reply["error"]["code"] == code, reply
        assert reply["error"]["message"]
        error: dict[str, Any] = reply["error"]
        return error

    async def subscribe(self) -> None:
        """Follow the box's live state."""
        await self.ok("subscribe")

    async def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Read what was sent so far (up to a ping's pong); take out the events of one type."""
        await self.client.send_json_auto_id({"type": "ping"})
        while True:
            async with asyncio.timeout(TIMEOUT):
                msg = await self.client.receive_json()
            if msg["type"] == "pong":
                break
            if msg["type"] == "event":
                self.events.append(msg["event"])
        found = [e["data"] for e in self.events if e["type"] == event_type]
        self.events = [e for e in self.events if e["type"] != event_type]
        return found


@pytest.fixture
async def ws(hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator) -> Ws:
    """An admin's connection."""
    return Ws(await hass_ws_client(hass), entry.entry_id)


@pytest.fixture
async def ws_user(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> Ws:
    """A non-admin user's connection."""
    return Ws(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)


@pytest.fixture
async def second_box(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[MockConfigEntry]:
    """Another loaded box, on its own library."""
    library = build_library(tmp_path / "other")
    hass.config.allowlist_external_dirs = {*hass.config.allowlist_external_dirs, str(tmp_path)}
    other = box_entry(library)
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    yield other
    await hass.config_entries.async_unload(other.entry_id)


# The sensor -----------------------------------------------------------------


async def test_last_tag_sensor(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A translated, unique sensor on the box's device; unknown until a tag is scanned."""
    registry = er.async_get(hass)
    entity = registry.async_get(SENSOR)
    assert entity is not None
    assert entity.unique_id == f"{entry.entry_id}_last_tag"
    assert entity.translation_key == "last_tag"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert entity.device_id == device.id
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"
    assert state.attributes["friendly_name"] == "Music Box Last tag"
    assert state.attributes["device_id"] is None
    assert state.attributes["known"] is None
    assert state.attributes["playlist_id"] is None


# Playing -----------------------------------------------------------------


async def test_linked_tag_plays(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A linked tag starts its playlist from the first track; the sensor shows the scan."""
    result = await act(hass, entry, "link_tag", tag_id=f"  {TAG_A} ", playlist_id=ANIMALS)
    assert result == {
        "tag_id": TAG_A,
        "playlist_id": ANIMALS,
        "playlist_name": "Animals",
        "start_track_id": None,
        "shuffle": None,
        "target": "box",
        "stale": False,
    }
    unknown = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.PLAYING
    assert player(entry).playlist_id == ANIMALS
    assert current_title(entry) == "Dog"
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "Animals"  # the playlist it plays
    assert state.attributes["tag_id"] == TAG_A
    assert state.attributes["device_id"] == READER
    assert state.attributes["known"] is True
    assert state.attributes["playlist_id"] == ANIMALS
    assert unknown == []


async def test_one_playlist_several_tags_and_relink(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Two tags may start one playlist; linking a tag again moves it; list is sorted."""
    await link(hass, entry, TAG_B, ANIMALS)
    await link(hass, entry, TAG_A, ANIMALS)
    listed = await act(hass, entry, "list_tags")
    assert listed is not None
    assert [(t["tag_id"], t["playlist_id"]) for t in listed["tags"]] == [
        (TAG_A, ANIMALS),
        (TAG_B, ANIMALS),
    ]
    assert listed["session"] is None
    await link(hass, entry, TAG_B, AUDIOBOOK)
    await scan(hass, TAG_B)
    assert player(entry).playlist_id == AUDIOBOOK
    await scan(hass, TAG_A)
    assert player(entry).playlist_id == ANIMALS


async def test_start_track_and_shuffle(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Each link may name its start track and shuffle."""
    cow = track_id(entry, "Cow")
    await act(hass, entry, "link_tag", tag_id=TAG_A, playlist_id=ANIMALS, start_track_id=cow)
    await act(hass, entry, "link_tag", tag_id=TAG_B, playlist_id=ANIMALS, shuffle=True)
    await scan(hass, TAG_A)
    assert current_title(entry) == "Cow"
    assert player(entry).shuffle is False
    await scan(hass, TAG_B)  # same playlist, but from the other tag: still "the same tag again"
    # toggle (default): the playlist is current, so the second scan pauses it.
    assert player(entry).state is PlayState.PAUSED
    await player(entry).async_stop()
    await scan(hass, TAG_B)
    assert player(entry).state is PlayState.PLAYING
    assert player(entry).shuffle is True
    links = await listed_tags(hass, entry)
    assert [(t["start_track_id"], t["shuffle"]) for t in links] == [
        (cow, None),
        (None, True),
    ]


async def test_start_track_gone_plays_from_start(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A start track later removed from its playlist: the tag plays from the start."""
    catalog = entry.runtime_data.catalog
    dog, cat = track_id(entry, "Dog"), track_id(entry, "Cat")
    mine = catalog.create_playlist("Mine", [dog, cat])
    await act(hass, entry, "link_tag", tag_id=TAG_A, playlist_id=mine.id, start_track_id=cat)
    catalog.remove_tracks(mine.id, [cat])
    await scan(hass, TAG_A)
    assert "start track of a tag's link is gone" in caplog.text
    assert player(entry).playlist_id == mine.id
    assert current_title(entry) == "Dog"


async def test_empty_playlist_is_logged_not_raised(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A linked playlist with nothing playable: a warning, nothing plays."""
    empty = entry.runtime_data.catalog.create_playlist("Empty")
    await link(hass, entry, TAG_A, empty.id)
    await scan(hass, TAG_A)
    assert "Cannot play the playlist of tag" in caplog.text
    assert player(entry).state is PlayState.IDLE


@pytest.mark.parametrize(
    ("action", "second", "third"),
    [
        (SAME_TAG_TOGGLE, PlayState.PAUSED, PlayState.PLAYING),
        (SAME_TAG_RESTART, PlayState.PLAYING, PlayState.PLAYING),
        (SAME_TAG_IGNORE, PlayState.PLAYING, PlayState.PLAYING),
    ],
)
async def test_same_tag_again(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    action: str,
    second: PlayState,
    third: PlayState,
) -> None:
    """The tag of the current playlist again: pause/resume, restart or nothing."""
    if action != SAME_TAG_TOGGLE:  # toggle is the default: no option set
        await set_options(hass, entry, **{CONF_SAME_TAG_ACTION: action})
    await link(hass, entry, TAG_A, ANIMALS)
    await scan(hass, TAG_A)
    await player(entry).async_next()
    assert current_title(entry) == "Cat"
    starts = player(entry).track_starts
    await scan(hass, TAG_A)
    assert player(entry).state is second
    if action == SAME_TAG_RESTART:
        assert current_title(entry) == "Dog"
        assert player(entry).track_starts == starts + 1
    else:
        assert current_title(entry) == "Cat"
        assert player(entry).track_starts == starts
    await scan(hass, TAG_A)
    assert player(entry).state is third
    # Stopped (or finished): the tag starts its playlist again, whatever the option.
    await player(entry).async_stop()
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.PLAYING
    assert current_title(entry) == "Dog"


async def test_same_tag_when_stopped_restarts(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """With toggle, a stopped box is not "resumed": the tag starts its playlist from the start."""
    await link(hass, entry, TAG_A, ANIMALS)
    await scan(hass, TAG_A)
    await player(entry).async_next()
    await player(entry).async_stop()
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.PLAYING
    assert current_title(entry) == "Dog"


# Unknown tags -----------------------------------------------------------------


async def test_unknown_tag(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Event with reader and box, sensor, one notification per box updated by each scan."""
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await scan(hass, TAG_A)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert [e.data for e in events] == [
        {
            "entry_id": entry.entry_id,
            "device_id": READER,
            "box_device_id": device.id,
            "tag_id": TAG_A,
        }
    ]
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"  # no playlist
    assert state.attributes["tag_id"] == TAG_A
    assert state.attributes["known"] is False
    assert state.attributes["playlist_id"] is None
    assert player(entry).state is PlayState.IDLE
    notification_id = NOTIFICATION_ID
    found = notifications(hass)
    assert list(found) == [notification_id]
    assert found[notification_id]["title"] == "Unknown tag on Music Box"
    assert f"`{TAG_A}`" in found[notification_id]["message"]
    assert "**Link tag**" in found[notification_id]["message"]

    await scan(hass, "tag`with`backticks", None)
    assert len(events) == 2
    assert events[1].data["device_id"] is None
    found = notifications(hass)
    assert list(found) == [notification_id]
    assert "`tag'with'backticks`" in found[notification_id]["message"]


async def test_unknown_tag_notification_in_french(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The notification speaks the language of Home Assistant."""
    hass.config.language = "fr"
    await scan(hass, TAG_A)
    (notification,) = notifications(hass).values()
    assert notification["title"] == "Tag inconnu sur Music Box"
    assert "**Associer un tag**" in notification["message"]


async def test_unknown_tag_without_notification(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The option turns the notification off; the event still comes."""
    await set_options(hass, entry, **{CONF_UNKNOWN_TAG_NOTIFICATION: False})
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await scan(hass, TAG_A)
    assert len(events) == 1
    assert notifications(hass) == {}


async def test_stale_link(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A link to a deleted playlist: listed stale, in diagnostics, a scan is an unknown tag."""
    catalog = entry.runtime_data.catalog
    mine = catalog.create_playlist("Mine", [track_id(entry, "Dog")])
    await link(hass, entry, TAG_A, mine.id)
    await link(hass, entry, TAG_B, ANIMALS)
    catalog.delete_playlist(mine.id)
    links = await listed_tags(hass, entry)
    assert [(t["tag_id"], t["stale"], t["playlist_name"]) for t in links] == [
        (TAG_A, True, None),
        (TAG_B, False, "Animals"),
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["tags"] == {
        "links": 2,
        "stale_links": [{"tag": redacted(TAG_A), "playlist_id": mine.id}],
        "session": None,
    }
    assert TAG_A not in str(diagnostics)
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await scan(hass, TAG_A)
    assert [e.data["tag_id"] for e in events] == [TAG_A]
    assert player(entry).state is PlayState.IDLE
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["known"] is False
    assert "Traceback" not in caplog.text
    # Relinking a stale tag needs no override.
    await link(hass, entry, TAG_A, AUDIOBOOK)
    await scan(hass, TAG_A)
    assert player(entry).playlist_id == AUDIOBOOK


async def test_bad_scans_are_ignored(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Empty, blank, too long or non-string ids: a warning, nothing else."""
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await act(hass, entry, "associate_tag", playlist_id=ANIMALS)
    association = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    for bad in ("", "   ", "x" * (MAX_TAG_ID_LENGTH + 1), 1234, None):
        hass.bus.async_fire(EVENT_TAG_SCANNED, {"tag_id": bad, "device_id": READER})
        await hass.async_block_till_done()
    assert caplog.text.count("Ignoring a scanned tag with an empty or too long id") == 5
    assert events == []
    assert association == []  # the session still waits
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"
    # The longest accepted id fits in the sensor's state; a non-string reader id is dropped.
    await act(hass, entry, "cancel_association")
    longest = "y" * MAX_TAG_ID_LENGTH
    hass.bus.async_fire(EVENT_TAG_SCANNED, {"tag_id": longest, "device_id": 42})
    await hass.async_block_till_done()
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["tag_id"] == longest
    assert state.attributes["device_id"] is None


# Bad input to actions and commands -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "x" * (MAX_TAG_ID_LENGTH + 1)])
async def test_bad_tag_ids_are_refused(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Ws, bad: str
) -> None:
    """A translated error from the actions and the commands."""
    with pytest.raises(ServiceValidationError) as err:
        await link(hass, entry, bad, ANIMALS)
    assert err.value.translation_key == "invalid_tag_id"
    assert err.value.translation_placeholders == {"max": str(MAX_TAG_ID_LENGTH)}
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "unlink_tag", tag_id=bad)
    assert err.value.translation_key == "invalid_tag_id"
    error = await ws.error("tags/link", "invalid_tag_id", tag_id=bad, playlist_id=ANIMALS)
    assert error["translation_domain"] == DOMAIN
    await ws.error("tags/unlink", "invalid_tag_id", tag_id=bad)
    assert (await ws.ok("tags/list"))["tags"] == []


async def test_bad_links_are_refused(hass: HomeAssistant, entry: MockConfigEntry, ws: Ws) -> None:
    """Unknown playlist, start track of another playlist, unknown tag, bad timeouts, bad types."""
    with pytest.raises(ServiceValidationError) as err:
        await link(hass, entry, TAG_A, "nope")
    assert err.value.translation_key == "unknown_playlist"
    chapter = track_id(entry, "Chapter 1")
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass, entry, "link_tag", tag_id=TAG_A, playlist_id=ANIMALS, start_track_id=chapter
        )
    assert err.value.translation_key == "track_not_in_playlist"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "unlink_tag", tag_id=TAG_A)
    assert err.value.translation_key == "unknown_tag"
    for timeout in (4, 601):
        with pytest.raises(ServiceValidationError) as err:
            await act(hass, entry, "associate_tag", playlist_id=ANIMALS, timeout=timeout)
        assert err.value.translation_key == "invalid_timeout"
        assert err.value.translation_placeholders == {"min": "5", "max": "600"}
        await ws.error("tags/associate", "invalid_timeout", playlist_id=ANIMALS, timeout=timeout)
    await ws.error("tags/associate", "unknown_playlist", playlist_id="nope")
    await ws.error(
        "tags/associate", "track_not_in_playlist", playlist_id=ANIMALS, start_track_id=chapter
    )
    await ws.error("tags/associate", "invalid_format", playlist_id=ANIMALS, timeout=True)
    await ws.error("tags/link", "invalid_format", tag_id=7, playlist_id=ANIMALS)
    await ws.error("tags/link", "invalid_format", tag_id=TAG_A, playlist_id=ANIMALS, shuffle=1)
    await ws.error("tags/link", "unknown_playlist", tag_id=TAG_A, playlist_id="nope")
    await ws.error("tags/unlink", "unknown_tag", tag_id=TAG_A)
    await ws.error("tags/override", "no_duplicate_tag")
    await ws.error("tags/cancel", "no_association_session")
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "override_tag")
    assert err.value.translation_key == "no_duplicate_tag"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "cancel_association")
    assert err.value.translation_key == "no_association_session"
    assert entry.runtime_data.tags.session is None
    assert (await ws.ok("tags/list"))["tags"] == []


# Association sessions -----------------------------------------------------------------


async def test_association_links_the_next_tag(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Ws
) -> None:
    """waiting → linked; the tag is linked, not played; the next scan plays it."""
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await ws.subscribe()
    await ws.of_type("snapshot")
    cow = track_id(entry, "Cow")
    before = dt_util.utcnow()
    waiting = await ws.ok(
        "tags/associate", playlist_id=ANIMALS, start_track_id=cow, shuffle=False, timeout=30
    )
    assert waiting["state"] == "waiting"
    assert waiting["timeout"] == 30
    expires = dt_util.parse_datetime(waiting["expires_at"])
    assert expires is not None
    assert timedelta(seconds=29) < expires - before < timedelta(seconds=31)
    assert (await ws.ok("tags/list"))["session"]["session_id"] == waiting["session_id"]
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.IDLE  # linked, not played
    streamed = await ws.of_type("tag_association")
    assert [(s["state"], s["tag_id"]) for s in streamed] == [("waiting", None), ("linked", TAG_A)]
    assert streamed[1]["session_id"] == waiting["session_id"]
    assert [e.data["state"] for e in bus] == ["waiting", "linked"]
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert bus[1].data["entry_id"] == entry.entry_id
    assert bus[1].data["device_id"] == device.id
    assert bus[1].data["tag_id"] == TAG_A
    (tags_event,) = await ws.of_type("tags")
    assert [t["tag_id"] for t in tags_event["tags"]] == [TAG_A]
    listed = await ws.ok("tags/list")
    assert listed["session"] is None
    assert [(t["tag_id"], t["start_track_id"], t["shuffle"]) for t in listed["tags"]] == [
        (TAG_A, cow, False)
    ]
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["known"] is True
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.PLAYING
    assert current_title(entry) == "Cow"


async def test_hub_streams_tag_changes(hass: HomeAssistant, entry: MockConfigEntry, ws: Ws) -> None:
    """Every link change streams the whole list as a `tags` event."""
    await ws.subscribe()
    await ws.of_type("snapshot")
    await ws.ok("tags/link", tag_id=TAG_A, playlist_id=ANIMALS)
    await ws.ok("tags/unlink", tag_id=TAG_A)
    streamed = await ws.of_type("tags")
    assert [[t["tag_id"] for t in s["tags"]] for s in streamed] == [[TAG_A], []]


async def test_association_duplicate_then_override(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Ws
) -> None:
    """A tag of another playlist: duplicate (with that playlist); override relinks, no rescan."""
    await link(hass, entry, TAG_A, AUDIOBOOK)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await ws.ok("tags/associate", playlist_id=ANIMALS)
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.IDLE
    assert states_of(bus) == ["waiting", "duplicate"]
    assert bus[1].data["current_playlist_id"] == AUDIOBOOK
    assert bus[1].data["tag_id"] == TAG_A
    session = (await ws.ok("tags/list"))["session"]
    assert session["state"] == "duplicate"
    linked = await ws.ok("tags/override")
    assert linked["state"] == "linked"
    assert linked["current_playlist_id"] == AUDIOBOOK  # what it started before
    assert states_of(bus) == ["waiting", "duplicate", "linked"]
    assert [(t["tag_id"], t["playlist_id"]) for t in (await ws.ok("tags/list"))["tags"]] == [
        (TAG_A, ANIMALS)
    ]
    await ws.error("tags/override", "no_duplicate_tag")
    await scan(hass, TAG_A)
    assert player(entry).playlist_id == ANIMALS


async def test_association_duplicate_then_other_tag(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """After a duplicate, scanning another (free) tag links that one instead."""
    await link(hass, entry, TAG_A, AUDIOBOOK)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await act(hass, entry, "associate_tag", playlist_id=ANIMALS)
    await scan(hass, TAG_A)
    await scan(hass, TAG_B)
    assert states_of(bus) == ["waiting", "duplicate", "linked"]
    assert bus[2].data["tag_id"] == TAG_B
    assert bus[2].data["current_playlist_id"] is None
    links = await listed_tags(hass, entry)
    assert [(t["tag_id"], t["playlist_id"]) for t in links] == [
        (TAG_A, AUDIOBOOK),
        (TAG_B, ANIMALS),
    ]


async def test_association_same_playlist_updates_link(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A tag already linked to the session's playlist is no duplicate: its link is updated."""
    await link(hass, entry, TAG_A, ANIMALS)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    response = await act(hass, entry, "associate_tag", playlist_id=ANIMALS, shuffle=True)
    assert response is not None
    assert response["state"] == "waiting"
    assert response["timeout"] == 60  # the default
    await scan(hass, TAG_A)
    assert states_of(bus) == ["waiting", "linked"]
    links = await listed_tags(hass, entry)
    assert links[0]["shuffle"] is True


async def test_association_duplicate_then_cancel(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Cancel from duplicate: the old link stays; cancel ends it for good."""
    await link(hass, entry, TAG_A, AUDIOBOOK)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await act(hass, entry, "associate_tag", playlist_id=ANIMALS)
    await scan(hass, TAG_A)
    cancelled = await act(hass, entry, "cancel_association")
    assert cancelled is not None
    assert (cancelled["state"], cancelled["reason"]) == ("cancelled", "user")
    assert states_of(bus) == ["waiting", "duplicate", "cancelled"]
    links = await listed_tags(hass, entry)
    assert links[0]["playlist_id"] == AUDIOBOOK
    with pytest.raises(ServiceValidationError):
        await act(hass, entry, "override_tag")


async def test_association_timeout(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """No tag within the timeout: timeout; scans play (or are unknown) again."""
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    unknown = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await act(hass, entry, "associate_tag", playlist_id=ANIMALS, timeout=5)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=4))
    await hass.async_block_till_done()
    assert states_of(bus) == ["waiting"]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()
    assert states_of(bus) == ["waiting", "timeout"]
    assert bus[1].data["tag_id"] is None
    assert entry.runtime_data.tags.session is None
    await scan(hass, TAG_A)
    assert [e.data["tag_id"] for e in unknown] == [TAG_A]
    assert states_of(bus) == ["waiting", "timeout"]


async def test_cancel_really_ends(hass: HomeAssistant, entry: MockConfigEntry, ws: Ws) -> None:
    """After cancel: no timeout later, and a scan plays instead of linking."""
    await link(hass, entry, TAG_A, ANIMALS)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await ws.ok("tags/associate", playlist_id=AUDIOBOOK, timeout=5)
    cancelled = await ws.ok("tags/cancel")
    assert cancelled["state"] == "cancelled"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
    await hass.async_block_till_done()
    assert states_of(bus) == ["waiting", "cancelled"]
    await scan(hass, TAG_A)
    assert player(entry).playlist_id == ANIMALS
    assert (await ws.ok("tags/list"))["tags"][0]["playlist_id"] == ANIMALS


async def test_new_session_replaces_the_open_one(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """One session per box: a new one cancels the open one (reason replaced)."""
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    first = await act(hass, entry, "associate_tag", playlist_id=ANIMALS, timeout=5)
    second = await act(hass, entry, "associate_tag", playlist_id=AUDIOBOOK, timeout=30)
    assert first is not None
    assert second is not None
    assert [(e.data["session_id"], e.data["state"], e.data["reason"]) for e in bus] == [
        (first["session_id"], "waiting", None),
        (first["session_id"], "cancelled", "replaced"),
        (second["session_id"], "waiting", None),
    ]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
    await hass.async_block_till_done()
    assert len(bus) == 3  # the first one's timer is gone
    await scan(hass, TAG_A)
    assert bus[-1].data["state"] == "linked"
    assert bus[-1].data["playlist_id"] == AUDIOBOOK


async def test_session_playlist_deleted_while_waiting(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The session's playlist deleted while waiting: the scan ends it, nothing is linked."""
    catalog = entry.runtime_data.catalog
    mine = catalog.create_playlist("Mine", [track_id(entry, "Dog")])
    await link(hass, entry, TAG_B, ANIMALS)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await act(hass, entry, "associate_tag", playlist_id=mine.id)
    catalog.delete_playlist(mine.id)
    await scan(hass, TAG_A)
    assert (bus[-1].data["state"], bus[-1].data["reason"]) == ("cancelled", "playlist_deleted")
    # ...and an override of a duplicate whose playlist went away is refused.
    mine = catalog.create_playlist("Mine again", [track_id(entry, "Dog")])
    await act(hass, entry, "associate_tag", playlist_id=mine.id)
    await scan(hass, TAG_B)
    assert bus[-1].data["state"] == "duplicate"
    catalog.delete_playlist(mine.id)
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "override_tag")
    assert err.value.translation_key == "unknown_playlist"
    links = await listed_tags(hass, entry)
    assert [(t["tag_id"], t["playlist_id"]) for t in links] == [(TAG_B, ANIMALS)]


async def test_links_survive_a_restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Links are stored; an open session ends as cancelled when the box unloads."""
    await link(hass, entry, TAG_A, ANIMALS)
    bus = async_capture_events(hass, EVENT_TAG_ASSOCIATION)
    await act(hass, entry, "associate_tag", playlist_id=AUDIOBOOK, timeout=5)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (bus[-1].data["state"], bus[-1].data["reason"]) == ("cancelled", "unload")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))
    await hass.async_block_till_done()
    assert states_of(bus) == ["waiting", "cancelled"]
    links = await listed_tags(hass, entry)
    assert [(t["tag_id"], t["playlist_id"]) for t in links] == [(TAG_A, ANIMALS)]
    await scan(hass, TAG_A)
    assert player(entry).playlist_id == ANIMALS


async def test_unloaded_box_ignores_scans(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An unloaded box neither plays nor reports scans."""
    await link(hass, entry, TAG_A, ANIMALS)
    box = entry.runtime_data
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await scan(hass, TAG_B)
    await scan(hass, TAG_A)
    assert events == []
    assert box.tags.last_scan is None
    box.tags.async_stop()  # stopping twice is harmless (HA's stop and the unload both close)


# Several boxes -----------------------------------------------------------------


async def test_several_boxes(
    hass: HomeAssistant, entry: MockConfigEntry, second_box: MockConfigEntry
) -> None:
    """A tag known to one box is unknown to none; a session on one box waits for that box only."""
    events = async_capture_events(hass, EVENT_TAG_UNKNOWN)
    await link(hass, entry, TAG_A, ANIMALS)
    await scan(hass, TAG_A)
    assert player(entry).state is PlayState.PLAYING
    assert player(second_box).state is PlayState.IDLE
    assert events == []
    await player(entry).async_stop()

    # The second box waits: the first still plays its tag; nobody calls TAG_B unknown.
    await act(hass, second_box, "associate_tag", playlist_id=AUDIOBOOK)
    await scan(hass, TAG_B)
    assert events == []
    listed = await act(hass, second_box, "list_tags")
    assert listed is not None
    assert [(t["tag_id"], t["playlist_id"]) for t in listed["tags"]] == [(TAG_B, AUDIOBOOK)]
    await act(hass, second_box, "associate_tag", playlist_id=ANIMALS)
    await scan(hass, TAG_A)  # linked on the second box too, played on the first
    assert player(entry).state is PlayState.PLAYING
    assert player(second_box).state is PlayState.IDLE

    # Unknown to both: each box fires its event; they share one notification.
    await scan(hass, "unknown-to-both")
    assert sorted(e.data["entry_id"] for e in events) == sorted(
        [entry.entry_id, second_box.entry_id]
    )
    assert list(notifications(hass)) == [NOTIFICATION_ID]


# Permissions -----------------------------------------------------------------


async def test_non_admin_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, ws_user: Ws, hass_read_only_user: MockUser
) -> None:
    """Users who are not administrators can list, but not link, unlink or associate."""
    await link(hass, entry, TAG_A, ANIMALS)
    for command, fields in (
        ("tags/link", {"tag_id": TAG_B, "playlist_id": ANIMALS}),
        ("tags/unlink", {"tag_id": TAG_A}),
        ("tags/associate", {"playlist_id": ANIMALS}),
        ("tags/override", {}),
        ("tags/cancel", {}),
    ):
        await ws_user.error(command, "unauthorized", **fields)
    # Listed, with a digest instead of the tag id (it is a secret).
    assert [t["tag_digest"] for t in (await ws_user.ok("tags/list"))["tags"]] == [redacted(TAG_A)]

    context = Context(user_id=hass_read_only_user.id)
    for service, fields in (
        ("link_tag", {"tag_id": TAG_B, "playlist_id": ANIMALS}),
        ("unlink_tag", {"tag_id": TAG_A}),
        ("associate_tag", {"playlist_id": ANIMALS}),
        ("override_tag", {}),
        ("cancel_association", {}),
    ):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                service,
                {"config_entry_id": entry.entry_id, **fields},
                blocking=True,
                context=context,
            )
    with pytest.raises(UnknownUser):
        await hass.services.async_call(
            DOMAIN,
            "override_tag",
            {"config_entry_id": entry.entry_id},
            blocking=True,
            context=Context(user_id="no-such-user"),
        )
    response = await hass.services.async_call(
        DOMAIN,
        "list_tags",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        context=context,
        return_response=True,
    )
    assert [t["tag_digest"] for t in response["tags"]] == [redacted(TAG_A)]  # type: ignore[index, union-attr]
    assert entry.runtime_data.tags.session is None


async def test_admin_user_may_link(
    hass: HomeAssistant, entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """An administrator's call goes through."""
    await hass.services.async_call(
        DOMAIN,
        "link_tag",
        {"config_entry_id": entry.entry_id, "tag_id": TAG_A, "playlist_id": ANIMALS},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await act(hass, entry, "unlink_tag", tag_id=TAG_A)
    listed = await act(hass, entry, "list_tags")
    assert listed == {"tags": [], "session": None}


async def test_link_by_websocket_with_op_id(hass: HomeAssistant, ws: Ws) -> None:
    """tags/link returns the link and the seq; a repeated client_op_id acts once."""
    first = await ws.ok(
        "tags/link", tag_id=TAG_A, playlist_id=ANIMALS, shuffle=True, client_op_id="op-1"
    )
    assert first["tag_id"] == TAG_A
    assert first["shuffle"] is True
    assert "seq" in first
    again = await ws.ok("tags/link", tag_id=TAG_A, playlist_id=AUDIOBOOK, client_op_id="op-1")
    assert again == first
    assert (await ws.ok("tags/list"))["tags"][0]["playlist_id"] == ANIMALS


async def test_logs_do_not_hold_tag_ids(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Tag ids may open doors elsewhere: our log lines never show them."""
    caplog.set_level(logging.DEBUG, logger="custom_components.open_music_box")
    await link(hass, entry, TAG_A, ANIMALS)
    await scan(hass, TAG_A)
    await scan(hass, TAG_B)
    ours = [r for r in caplog.records if r.name.startswith("custom_components.open_music_box")]
    assert all(TAG_A not in r.getMessage() and TAG_B not in r.getMessage() for r in ours)


async def test_restart_starts_an_audiobook_over(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """ "restart" starts an audiobook from its first track, not from its resume point."""
    await set_options(hass, entry, **{CONF_SAME_TAG_ACTION: SAME_TAG_RESTART})
    entry.runtime_data.set_playlist_mode(AUDIOBOOK, PlaylistMode.AUDIOBOOK)
    await link(hass, entry, TAG_A, AUDIOBOOK)
    await scan(hass, TAG_A)
    await player(entry).async_next()
    await player(entry).async_seek(6.0)
    assert current_title(entry) == "Chapter 2"
    await scan(hass, TAG_A)
    assert current_title(entry) == "Chapter 1"
    assert player(entry).position == 0
    assert player(entry).state is PlayState.PLAYING


async def test_snapshot_holds_the_tag_links(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A reconnecting client gets the links with the state, without a tags/list."""
    await link(hass, entry, TAG_A, ANIMALS)
    tags = entry.runtime_data.events.snapshot()["tags"]
    assert [t["tag_id"] for t in tags] == [TAG_A]
