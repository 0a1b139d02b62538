"""A refused tag says "no" with a short soft chime (or nothing, as the option says), and leaves
what was playing, paused, queued or resumable as it was. Real HA core, real libmpv (the chime's
own mpv instance reports what it loaded and how it ended)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.open_music_box.children.chime import CHIME_FILE
from custom_components.open_music_box.children.const import (
    CONF_DAILY_LIMIT,
    CONF_REFUSAL_SOUND,
    EVENT_TAG_REFUSED,
    REFUSAL_NONE,
)
from custom_components.open_music_box.children.resume import PlaylistMode
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState

from .children_helpers import action, add_box, box_of, link, scan, set_options

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
SONGS_TAG = "04-SONGS"


async def bedtime_box(hass: HomeAssistant, library: Path, **options: object) -> MockConfigEntry:
    """A box at bedtime, paused in the middle of an audiobook; SONGS_TAG is not for bedtime."""
    entry = await add_box(hass, library, "Music Box", **options)
    box = box_of(entry)
    await link(hass, entry, SONGS_TAG, ANIMALS)
    box.set_playlist_mode(AUDIOBOOK, PlaylistMode.AUDIOBOOK)
    await action(hass, entry, "set_bedtime_playlist", playlist_id=AUDIOBOOK, bedtime=True)
    await box.async_play_playlist(AUDIOBOOK)
    await box.player.async_next()
    await box.player.async_seek(7.0)
    await box.player.async_pause()
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.music_box_bedtime"}, blocking=True
    )
    await hass.async_block_till_done()
    return entry


def _where(entry: MockConfigEntry) -> tuple[object, ...]:
    box = box_of(entry)
    player = box.player
    tracks = box.catalog.tracks_of(box.catalog.require_playlist(AUDIOBOOK))
    return (
        player.state,
        player.playlist_id,
        [track.id for track in player.queue],
        player.pos,
        round(player.current_position(), 1),
        box.resume.start_point(AUDIOBOOK, tracks),
    )


async def test_a_refused_tag_chimes_and_changes_nothing(hass: HomeAssistant, library: Path) -> None:
    """The default: mpv plays the chime file to its end; the paused audiobook stays put."""
    entry = await bedtime_box(hass, library)
    box = box_of(entry)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    before = _where(entry)
    assert before[0] is PlayState.PAUSED

    await scan(hass, SONGS_TAG, None)

    assert [e.data["reason"] for e in refused] == ["bedtime"]
    assert [(play.path, play.end) for play in box.chime.history] == [(str(CHIME_FILE), "eof")]
    assert _where(entry) == before
    # Playing again goes on from where the audiobook was paused.
    await box.player.async_play()
    assert box.player.playlist_id == AUDIOBOOK
    assert box.player.pos == before[3]


async def test_the_daily_limit_chimes_too(
    hass: HomeAssistant, library: Path, freezer: FrozenDateTimeFactory
) -> None:
    """A tag refused by the reached daily limit gets the same chime; the box stays paused."""
    entry = await add_box(hass, library, "Music Box", **{CONF_DAILY_LIMIT: 10})
    box = box_of(entry)
    await link(hass, entry, SONGS_TAG, ANIMALS)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    await box.async_play_playlist(AUDIOBOOK)
    freezer.tick(timedelta(minutes=10.1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert box.daily_limit.reached
    assert box.player.state is PlayState.PAUSED

    await scan(hass, SONGS_TAG, None)

    assert [e.data["reason"] for e in refused] == ["daily_limit"]
    assert [play.end for play in box.chime.history] == ["eof"]
    assert box.player.state is PlayState.PAUSED
    assert box.player.playlist_id == AUDIOBOOK


async def test_refusal_can_be_silent(hass: HomeAssistant, library: Path) -> None:
    """With "nothing", the refusal is only the event: no chime is played."""
    entry = await bedtime_box(hass, library, **{CONF_REFUSAL_SOUND: REFUSAL_NONE})
    box = box_of(entry)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)
    before = _where(entry)

    await scan(hass, SONGS_TAG, None)

    assert [e.data["reason"] for e in refused] == ["bedtime"]
    assert box.chime.history == []
    assert _where(entry) == before
    assert box.guard.refusal_sound == REFUSAL_NONE
    await set_options(hass, entry, **{CONF_REFUSAL_SOUND: "chime"})
    await scan(hass, SONGS_TAG, None)
    assert len(box.chime.history) == 1


async def test_a_muted_box_does_not_chime(hass: HomeAssistant, library: Path) -> None:
    """A muted box stays silent: the chime follows the box's volume."""
    entry = await bedtime_box(hass, library)
    box = box_of(entry)
    await box.player.async_set_mute(True)
    await scan(hass, SONGS_TAG, None)
    assert box.chime.history == []


async def test_the_options_flow_sets_the_refusal_sound(hass: HomeAssistant, library: Path) -> None:
    """The options form offers the choice (default: the gentle sound) and stores it."""
    entry = await add_box(hass, library, "Music Box")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    fields = {str(key): key for key in result["data_schema"].schema}
    assert fields[CONF_REFUSAL_SOUND].description == {"suggested_value": "chime"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"max_volume": 80, "default_volume": 30, CONF_REFUSAL_SOUND: REFUSAL_NONE},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_REFUSAL_SOUND] == REFUSAL_NONE
    assert box_of(entry).guard.refusal_sound == REFUSAL_NONE
