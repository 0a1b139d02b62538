"""The refusal chime of a box playing through another media player: sent to that player only
while the box holds nothing, as an announcement when the player can make one. Real HA core, a
real media_player entity of a test platform (tests/target_player.py)."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.media_player import MediaPlayerEntityFeature
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.open_music_box.children.chime import CHIME_FILE, CHIME_URL_PATH
from custom_components.open_music_box.children.const import EVENT_TAG_REFUSED
from custom_components.open_music_box.const import CONF_OUTPUT, CONF_TARGET_ENTITY, OUTPUT_ENTITY
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.playback.player import PlayState

from .children_helpers import action, add_box, box_of, link, scan
from .target_player import (
    FULL_FEATURES,
    TARGET_ID,
    TargetPlayer,
    async_setup_target_platform,
)

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
SONGS_TAG = "04-SONGS"
INTERNAL_URL = "http://192.0.2.10:8123"


async def relay_box(
    hass: HomeAssistant, library: Path, features: MediaPlayerEntityFeature = FULL_FEATURES
) -> tuple[MockConfigEntry, TargetPlayer]:
    """A box playing through a speaker, at bedtime; SONGS_TAG is not for bedtime."""
    await hass.config.async_update(internal_url=INTERNAL_URL)
    add_target = await async_setup_target_platform(hass)
    speaker = TargetPlayer(features)
    add_target([speaker])
    await hass.async_block_till_done()
    entry = await add_box(
        hass,
        library,
        "Music Box",
        output={CONF_OUTPUT: OUTPUT_ENTITY, CONF_TARGET_ENTITY: TARGET_ID},
    )
    await link(hass, entry, SONGS_TAG, ANIMALS)
    await action(hass, entry, "set_bedtime_playlist", playlist_id=AUDIOBOOK, bedtime=True)
    box_of(entry).bedtime.set(True, "action")
    await hass.async_block_till_done()
    return entry, speaker


async def test_an_idle_box_chimes_on_its_speaker(
    hass: HomeAssistant, library: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Nothing held: the speaker gets the chime's signed URL, served by the integration."""
    entry, speaker = await relay_box(hass, library)
    refused = async_capture_events(hass, EVENT_TAG_REFUSED)

    await scan(hass, SONGS_TAG, None)

    assert [e.data["reason"] for e in refused] == ["bedtime"]
    (url,) = (URL(u) for u in speaker.urls)
    assert url.path == CHIME_URL_PATH
    assert box_of(entry).player.state is PlayState.IDLE
    assert box_of(entry).chime.history[-1].ao == "entity"
    client = await hass_client_no_auth()
    response = await client.get(url.path_qs)
    assert response.status == 200
    assert await response.read() == await hass.async_add_executor_job(CHIME_FILE.read_bytes)
    assert (await client.get(url.path)).status == 401  # not without the signature


async def test_a_paused_box_does_not_chime_on_its_speaker(
    hass: HomeAssistant, library: Path
) -> None:
    """The box holds a paused audiobook: the speaker gets nothing, the box stays as it was."""
    entry, speaker = await relay_box(hass, library)
    box = box_of(entry)
    await box.async_play_playlist(AUDIOBOOK)
    await box.player.async_pause()
    await hass.async_block_till_done()
    urls = list(speaker.urls)

    await scan(hass, SONGS_TAG, None)

    assert speaker.urls == urls
    assert box.player.state is PlayState.PAUSED
    assert box.player.playlist_id == AUDIOBOOK
    assert box.chime.history == []


async def test_a_speaker_busy_with_something_else(hass: HomeAssistant, library: Path) -> None:
    """A speaker playing something else is left alone, unless it can announce (it then resumes
    what it played by itself)."""
    entry, speaker = await relay_box(hass, library)
    await speaker.async_play_media("music", "http://192.0.2.99/radio")
    await scan(hass, SONGS_TAG, None)
    assert speaker.urls == ["http://192.0.2.99/radio"]

    await hass.config_entries.async_unload(entry.entry_id)
    announcer = FULL_FEATURES | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
    speaker._attr_supported_features = announcer
    speaker.async_write_ha_state()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    box_of(entry).bedtime.set(True, "action")
    await scan(hass, SONGS_TAG, None)
    assert URL(speaker.urls[-1]).path == CHIME_URL_PATH
