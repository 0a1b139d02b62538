"""NFC tags: the last-tag sensor, scans play linked playlists, unknown tags, several boxes.

Real HA core with its `tag` component (scans go through `tag.async_scan_tag`, as ESPHome and the
companion app do), real libmpv (ao=null), real WebSocket connections.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
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
from custom_components.open_music_box.playback.player import PlayState
from custom_components.open_music_box.tag_model import MAX_TAG_ID_LENGTH
from custom_components.open_music_box.tag_notices import NOTIFICATION_ID
from custom_components.open_music_box.tags import (
    EVENT_TAG_ASSOCIATION,
    EVENT_TAG_SCANNED,
    EVENT_TAG_UNKNOWN,
    redacted,
)

from .helpers.tags import (
    ANIMALS,
    AUDIOBOOK,
    READER,
    SENSOR,
    TAG_A,
    TAG_B,
    act,
    current_title,
    link,
    listed_tags,
    notifications,
    player,
    scan,
    second_box,  # noqa: F401 (fixtures)
    set_options,
    tag_component,  # noqa: F401 (fixtures)
    track_id,
)

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
    assert "](/open-music-box?tab=tags)" in found[notification_id]["message"]  # the panel's Tags

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
    assert "**Pour l'associer :**" in notification["message"]


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
