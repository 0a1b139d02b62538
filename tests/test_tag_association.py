"""NFC tags: association sessions link the next scanned tag; links kept and streamed.

Real HA core with its `tag` component (scans go through `tag.async_scan_tag`, as ESPHome and the
companion app do), real libmpv (ao=null), real WebSocket connections.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.open_music_box.const import (
    DOMAIN,
)
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.tags import (
    EVENT_TAG_ASSOCIATION,
    EVENT_TAG_UNKNOWN,
)

from .helpers.tags import (
    ANIMALS,
    AUDIOBOOK,
    SENSOR,
    TAG_A,
    TAG_B,
    Ws,
    act,
    current_title,
    link,
    listed_tags,
    player,
    scan,
    states_of,
    tag_component,  # noqa: F401 (fixtures)
    track_id,
    ws,  # noqa: F401 (fixtures)
)

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


async def test_snapshot_holds_the_tag_links(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A reconnecting client gets the links with the state, without a tags/list."""
    await link(hass, entry, TAG_A, ANIMALS)
    tags = entry.runtime_data.events.snapshot()["tags"]
    assert [t["tag_id"] for t in tags] == [TAG_A]
