"""The box playing through another media player: real HA core, a real media_player entity.

The target (tests/target_player.py) is a media_player entity on a test platform; it records the
service calls it receives and the tests drive its state as its own user or device would. Tracks
reach it as signed URLs of the box's HTTP view, fetched here with HA's aiohttp test client.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
import logging
from pathlib import Path
from typing import Any

from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player import (
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.open_music_box.box import MusicBox, media_url_path
from custom_components.open_music_box.const import (
    CONF_DEFAULT_VOLUME,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_TARGET_ENTITY,
    DOMAIN,
    OUTPUT_ENTITY,
    PLAYLIST_PREFIX,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.models import Track
from custom_components.open_music_box.playback.outputs.base import OutputEvent, OutputEventType
from custom_components.open_music_box.playback.outputs.entity import EntityOutput

from .conftest import ENTITY_ID, box_entry
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform

INTERNAL_URL = "http://192.0.2.10:8123"
STREAM_URL = "http://radio.invalid/stream.mp3"


# Set-up -----------------------------------------------------------------------------------------


def entity_box_entry(library: Path, **options: Any) -> MockConfigEntry:
    """A config entry for a box playing `library` through TARGET_ID."""
    return box_entry(
        library, {CONF_OUTPUT: OUTPUT_ENTITY, CONF_TARGET_ENTITY: TARGET_ID}, **options
    )


@pytest.fixture
async def add_target(hass: HomeAssistant) -> AddEntitiesCallback:
    """The media_player domain with a test platform, ready to receive the speaker."""
    await hass.config.async_update(internal_url=INTERNAL_URL)
    return await async_setup_target_platform(hass)


async def _add(hass: HomeAssistant, add_target: AddEntitiesCallback, **kwargs: Any) -> TargetPlayer:
    speaker = TargetPlayer(**kwargs)
    add_target([speaker])
    await hass.async_block_till_done()
    assert hass.states.get(TARGET_ID) is not None
    return speaker


@pytest.fixture
async def target(hass: HomeAssistant, add_target: AddEntitiesCallback) -> TargetPlayer:
    """The speaker the box plays through, present before the box starts."""
    return await _add(hass, add_target)


async def _setup_box(hass: HomeAssistant, library: Path, **options: Any) -> MockConfigEntry:
    hass.config.allowlist_external_dirs = {str(library.parent)}
    config_entry = entity_box_entry(library, **options)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.fixture
async def box(
    hass: HomeAssistant, library: Path, target: TargetPlayer
) -> AsyncGenerator[MockConfigEntry]:
    """A loaded box on the generated library, playing through the speaker, max volume 60 %."""
    config_entry = await _setup_box(hass, library, **{CONF_MAX_VOLUME: 60})
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)


# Helpers -----------------------------------------------------------------------------------------


def _box(config_entry: MockConfigEntry) -> MusicBox:
    box: MusicBox = config_entry.runtime_data
    return box


def _playlist_id(config_entry: MockConfigEntry, name: str) -> str:
    return next(p.id for p in _box(config_entry).catalog.playlists() if p.name == name)


def _tracks(config_entry: MockConfigEntry, name: str) -> list[Track]:
    catalog = _box(config_entry).catalog
    playlist = catalog.playlist(_playlist_id(config_entry, name))
    assert playlist is not None
    return catalog.tracks_of(playlist)


async def _call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a media_player service on the box and let every state change settle."""
    await hass.services.async_call(
        "media_player", service, {"entity_id": ENTITY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done()


async def _play_playlist(hass: HomeAssistant, config_entry: MockConfigEntry, name: str) -> None:
    await _call(
        hass,
        "play_media",
        media_content_type=MediaType.PLAYLIST,
        media_content_id=f"{PLAYLIST_PREFIX}{_playlist_id(config_entry, name)}",
    )


def _state(hass: HomeAssistant, entity_id: str = ENTITY_ID) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def _settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done()


def _remove_target(hass: HomeAssistant) -> None:
    """Delete the speaker, as when its integration is removed: its state goes away."""
    er.async_get(hass).async_remove(TARGET_ID)


def _track_path(config_entry: MockConfigEntry, track: Track) -> str:
    return media_url_path(config_entry.entry_id, track.id)


# Tracks as signed URLs ---------------------------------------------------------------------------


async def test_play_playlist_sends_signed_url_served_by_the_view(
    hass: HomeAssistant,
    box: MockConfigEntry,
    target: TargetPlayer,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    dog, _cat, _cow = _tracks(box, "Animals")

    await _play_playlist(hass, box, "Animals")

    (play,) = target.services("play_media")
    assert play.data["media_type"] == MediaType.MUSIC
    url = URL(play.data["media_id"])
    assert url.is_absolute()
    assert str(url.origin()) == INTERNAL_URL
    assert url.path == f"/api/{DOMAIN}/media/{box.entry_id}/{dog.id}"
    assert url.query.get("authSig")
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Dog"

    client = await hass_client_no_auth()
    response = await client.get(url.path_qs)
    assert response.status == 200
    expected = await hass.async_add_executor_job(Path(dog.path).read_bytes)
    assert await response.read() == expected
    assert expected[:4] == b"RIFF"

    # Without the signature, or with a forged one, the file is not served.
    assert (await client.get(url.path)).status == 401
    forged = url.update_query(authSig=url.query["authSig"][:-4] + "AAAA")
    assert (await client.get(forged.path_qs)).status == 401


async def test_view_serves_only_library_files_of_loaded_boxes(
    hass: HomeAssistant,
    box: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    dog = _tracks(box, "Animals")[0]
    other = MockConfigEntry(domain="other_domain")
    other.add_to_hass(hass)
    client = await hass_client_no_auth()

    async def status(path: str) -> int:
        signed = async_sign_path(hass, path, timedelta(minutes=5))
        response = await client.get(signed)
        return int(response.status)

    assert await status(_track_path(box, dog)) == 200
    assert await status(media_url_path(box.entry_id, "nosuchtrack")) == 404
    assert await status(media_url_path("nosuchentry", dog.id)) == 404
    assert await status(media_url_path(other.entry_id, dog.id)) == 404

    await hass.config_entries.async_unload(box.entry_id)
    await hass.async_block_till_done()
    assert await status(_track_path(box, dog)) == 404


async def test_url_tracks_go_to_the_target_as_they_are(
    hass: HomeAssistant,
    library: Path,
    target: TargetPlayer,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A stream of an m3u is no file of ours: the target gets its URL, the view refuses it."""
    await hass.async_add_executor_job(
        (library / "Radio.m3u").write_text, f"#EXTM3U\n#EXTINF:-1,Radio\n{STREAM_URL}\n", "utf-8"
    )
    config_entry = await _setup_box(hass, library)
    (stream,) = _tracks(config_entry, "Radio")
    assert stream.is_url

    await _play_playlist(hass, config_entry, "Radio")

    assert target.urls == [STREAM_URL]
    assert _state(hass).attributes["media_title"] == "Radio"
    client = await hass_client_no_auth()
    signed = async_sign_path(hass, _track_path(config_entry, stream), timedelta(minutes=5))
    assert (await client.get(signed)).status == 404
    await hass.config_entries.async_unload(config_entry.entry_id)


# Following the target's state --------------------------------------------------------------------


async def test_pause_and_resume_by_someone_else(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    await _play_playlist(hass, box, "Audiobook")
    calls = len(target.calls)

    target.set_state(MediaPlayerState.PAUSED)  # the speaker's own button
    await _settle(hass)
    assert _state(hass).state == MediaPlayerState.PAUSED

    target.set_state(MediaPlayerState.PLAYING)
    await _settle(hass)
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Chapter 1"
    assert len(target.calls) == calls  # following the speaker sends it nothing


async def test_attribute_updates_of_the_target_are_no_news(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    """Position or volume updates of the speaker do not rewrite the box's state."""
    await _play_playlist(hass, box, "Audiobook")
    before = _state(hass)

    target.set_position(3)  # a speaker reporting its progress
    target.set_volume(0.2)  # someone turns the speaker's own knob
    await _settle(hass)

    after = _state(hass)
    assert after.state == MediaPlayerState.PLAYING
    assert after.last_updated == before.last_updated


async def test_end_of_track_starts_the_next_one_then_idle(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    dog, cat, _cow = _tracks(box, "Animals")
    target.blip_on_load = True  # idle while opening each URL: never an end of track

    await _play_playlist(hass, box, "Animals")
    assert [URL(u).path for u in target.urls] == [_track_path(box, dog)]
    assert _state(hass).attributes["media_title"] == "Dog"

    target.set_state(MediaPlayerState.IDLE)  # Dog finished
    await _settle(hass)
    assert [URL(u).path for u in target.urls] == [_track_path(box, t) for t in (dog, cat)]
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Cat"
    assert state.attributes["media_position"] == 0

    target.set_state(MediaPlayerState.OFF)  # a speaker may report off at the end, too
    await _settle(hass)
    assert _state(hass).attributes["media_title"] == "Cow"

    target.set_state(MediaPlayerState.IDLE)  # Cow finished: end of the queue
    await _settle(hass)
    assert len(target.urls) == 3
    state = _state(hass)
    assert state.state == MediaPlayerState.IDLE
    assert "media_title" not in state.attributes

    # Idle again (or anything else) while we are not playing is none of our business.
    target.set_state(MediaPlayerState.PLAYING)
    target.set_state(MediaPlayerState.IDLE)
    await _settle(hass)
    assert len(target.urls) == 3
    assert _state(hass).state == MediaPlayerState.IDLE


async def test_idle_blip_while_loading_is_not_an_end_of_track(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    target.blip_on_load = True
    await _play_playlist(hass, box, "Animals")
    assert len(target.urls) == 1
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Dog"


async def test_buffering_is_neither_pause_nor_end(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    await _play_playlist(hass, box, "Audiobook")
    await _call(hass, "media_seek", seek_position=7)

    target.set_state(MediaPlayerState.BUFFERING)
    await _settle(hass)
    assert _state(hass).state == MediaPlayerState.PLAYING
    assert len(target.urls) == 1

    # Paused while the speaker buffers: the position is the speaker's, not extrapolated.
    await _call(hass, "media_pause")
    state = _state(hass)
    assert state.state == MediaPlayerState.PAUSED
    assert state.attributes["media_position"] == 7


# Commands ----------------------------------------------------------------------------------------


async def test_startup_applies_the_capped_default_volume(
    hass: HomeAssistant, library: Path, target: TargetPlayer
) -> None:
    config_entry = await _setup_box(hass, library, **{CONF_MAX_VOLUME: 30, CONF_DEFAULT_VOLUME: 50})
    assert [(c.service, c.data) for c in target.calls] == [
        ("volume_set", {"volume": 0.3}),
        ("volume_mute", {"mute": False}),
    ]
    assert _state(hass, TARGET_ID).attributes["volume_level"] == 0.3
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_commands_are_forwarded_to_the_target(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    await _play_playlist(hass, box, "Audiobook")
    target.calls.clear()

    await _call(hass, "media_pause")
    assert _state(hass).state == MediaPlayerState.PAUSED
    assert _state(hass, TARGET_ID).state == MediaPlayerState.PAUSED

    await _call(hass, "media_play")
    assert _state(hass).state == MediaPlayerState.PLAYING
    assert _state(hass, TARGET_ID).state == MediaPlayerState.PLAYING

    await _call(hass, "media_seek", seek_position=12.4)
    assert _state(hass).attributes["media_position"] == 12

    await _call(hass, "volume_set", volume_level=0.4)
    assert _state(hass).attributes["volume_level"] == 0.4
    await _call(hass, "volume_set", volume_level=0.9)  # above the 60 % maximum
    assert _state(hass).attributes["volume_level"] == 0.6
    assert _state(hass, TARGET_ID).attributes["volume_level"] == 0.6

    await _call(hass, "volume_mute", is_volume_muted=True)
    assert _state(hass).attributes["is_volume_muted"] is True
    assert _state(hass, TARGET_ID).attributes["is_volume_muted"] is True

    await _call(hass, "media_stop")
    assert _state(hass).state == MediaPlayerState.IDLE
    assert _state(hass, TARGET_ID).state == MediaPlayerState.IDLE
    await _call(hass, "media_stop")  # already stopped: the speaker is left alone

    assert [(c.service, c.data) for c in target.calls] == [
        ("media_pause", {}),
        ("media_play", {}),
        ("media_seek", {"position": 12.4}),
        ("volume_set", {"volume": 0.4}),
        ("volume_set", {"volume": 0.6}),
        ("volume_mute", {"mute": True}),
        ("media_stop", {}),
    ]  # no play_media: the speaker's idle after our stop is no end of track


async def test_next_while_paused_loads_the_track_paused(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    _dog, cat, _cow = _tracks(box, "Animals")
    await _play_playlist(hass, box, "Animals")
    await _call(hass, "media_pause")
    target.calls.clear()

    await _call(hass, "media_next_track")

    assert [c.service for c in target.calls] == ["play_media", "media_pause"]
    assert URL(target.urls[0]).path == _track_path(box, cat)
    state = _state(hass)
    assert state.state == MediaPlayerState.PAUSED
    assert state.attributes["media_title"] == "Cat"
    assert _state(hass, TARGET_ID).state == MediaPlayerState.PAUSED


async def test_target_without_position(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    """A speaker that reports no position: the box keeps its own."""
    target.reports_position = False
    await _play_playlist(hass, box, "Audiobook")
    await _call(hass, "media_seek", seek_position=5)
    await _call(hass, "media_pause")
    state = _state(hass)
    assert state.state == MediaPlayerState.PAUSED
    assert state.attributes["media_position"] >= 5
    await _call(hass, "media_play")
    assert _state(hass).state == MediaPlayerState.PLAYING


async def test_output_resumes_a_track_at_a_position(
    hass: HomeAssistant, add_target: AddEntitiesCallback
) -> None:
    """The Output contract on its own: load at a position (resume, recovery) seeks the target."""
    target = await _add(hass, add_target)
    events: list[OutputEvent] = []
    output = EntityOutput(hass, TARGET_ID, lambda track: f"{INTERNAL_URL}/{track.id}")
    await output.async_start(events.append)
    chapter = Track(id="c1", path="/books/c1.wav", title="Chapter", duration=20.0)

    await output.async_load(chapter, 12.5, False, None)
    await hass.async_block_till_done()

    assert [(c.service, c.data) for c in target.calls] == [
        ("play_media", {"media_type": MediaType.MUSIC, "media_id": f"{INTERNAL_URL}/c1"}),
        ("media_seek", {"position": 12.5}),
    ]
    assert [e.type for e in events] == [OutputEventType.RESTARTED]
    assert await output.async_get_position() is not None

    await output.async_close()
    await output.async_close()  # closing twice is harmless
    target.set_state(MediaPlayerState.IDLE)
    await hass.async_block_till_done()
    assert len(events) == 1  # no longer following the target


# Availability ------------------------------------------------------------------------------------


async def test_target_unavailable_makes_the_box_unavailable(
    hass: HomeAssistant,
    box: MockConfigEntry,
    target: TargetPlayer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _play_playlist(hass, box, "Audiobook")
    caplog.clear()

    target.set_available(False)
    await _settle(hass)
    assert _state(hass, TARGET_ID).state == STATE_UNAVAILABLE
    assert _state(hass).state == STATE_UNAVAILABLE
    assert len(target.urls) == 1  # unavailable is no end of track

    target.set_available(True)
    await _settle(hass)
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Chapter 1"
    # log-when-unavailable: one INFO line each way, nothing louder.
    logged = [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name.startswith("custom_components.open_music_box") and r.levelno >= logging.INFO
    ]
    assert logged == [
        (logging.INFO, f"Target media player {TARGET_ID} is unavailable"),
        (logging.INFO, f"Target media player {TARGET_ID} is available"),
    ]


async def test_target_that_appears_after_the_box(
    hass: HomeAssistant, library: Path, add_target: AddEntitiesCallback
) -> None:
    """The speaker's integration may load after ours (or its entity may be removed)."""
    config_entry = await _setup_box(hass, library)
    assert config_entry.state is ConfigEntryState.LOADED
    assert _state(hass).state == STATE_UNAVAILABLE

    target = await _add(hass, add_target)
    assert _state(hass).state == MediaPlayerState.IDLE
    await _play_playlist(hass, config_entry, "Animals")
    assert len(target.urls) == 1

    _remove_target(hass)
    await _settle(hass)
    assert hass.states.get(TARGET_ID) is None
    assert _state(hass).state == STATE_UNAVAILABLE
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_target_that_appears_later_gets_the_capped_volume(
    hass: HomeAssistant, library: Path, add_target: AddEntitiesCallback
) -> None:
    """The maximum volume holds even for a speaker that appears after the box started."""
    config_entry = await _setup_box(hass, library, **{CONF_MAX_VOLUME: 40})
    target = await _add(hass, add_target)  # at full volume
    await _play_playlist(hass, config_entry, "Animals")
    await hass.config_entries.async_unload(config_entry.entry_id)
    assert _state(hass, TARGET_ID).attributes["volume_level"] <= 0.4
    assert target.services("volume_set")


# Errors ------------------------------------------------------------------------------------------


async def test_target_errors_are_translated_and_the_box_keeps_working(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    _dog, cat, _cow = _tracks(box, "Animals")
    await _play_playlist(hass, box, "Animals")
    target.fail = True

    for service, data in (
        ("play_media", {"media_content_type": "music", "media_content_id": "track:" + cat.id}),
        ("volume_set", {"volume_level": 0.2}),
        ("media_pause", {}),
    ):
        with pytest.raises(HomeAssistantError) as err:
            await _call(hass, service, **data)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "output_failed"
        assert TARGET_ID in (err.value.translation_placeholders or {})["detail"]
        assert _state(hass).state == MediaPlayerState.PLAYING

    target.fail = False
    # The failed pause must not swallow a real pause from the speaker afterwards.
    target.set_state(MediaPlayerState.PAUSED)
    await _settle(hass)
    assert _state(hass).state == MediaPlayerState.PAUSED

    await _call(hass, "media_play")
    assert _state(hass).state == MediaPlayerState.PLAYING
    await _play_playlist(hass, box, "Audiobook")
    state = _state(hass)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["media_title"] == "Chapter 1"


async def test_target_failing_at_the_end_of_a_track(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    """The next track cannot be started: the box stops instead of claiming to play it."""
    await _play_playlist(hass, box, "Animals")
    target.fail = True
    target.set_state(MediaPlayerState.IDLE)
    await _settle(hass)
    assert _state(hass).state == MediaPlayerState.IDLE

    target.fail = False
    await _play_playlist(hass, box, "Animals")
    assert _state(hass).state == MediaPlayerState.PLAYING


async def test_target_without_volume_control(
    hass: HomeAssistant, library: Path, add_target: AddEntitiesCallback
) -> None:
    """A speaker without volume support still plays the box."""
    target = await _add(
        hass,
        add_target,
        features=MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.PLAY
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP,
    )
    config_entry = await _setup_box(hass, library)
    assert config_entry.state is ConfigEntryState.LOADED
    await _play_playlist(hass, config_entry, "Animals")
    assert len(target.urls) == 1
    await hass.config_entries.async_unload(config_entry.entry_id)


# Diagnostics -------------------------------------------------------------------------------------


async def test_diagnostics_of_an_entity_output_box(
    hass: HomeAssistant, box: MockConfigEntry, target: TargetPlayer
) -> None:
    await _play_playlist(hass, box, "Animals")

    diagnostics = await async_get_config_entry_diagnostics(hass, box)

    assert diagnostics["entry"]["data"][CONF_OUTPUT] == OUTPUT_ENTITY
    assert diagnostics["output"] == {
        "available": True,
        "type": "entity",
        "target_entity": TARGET_ID,
        "target_state": MediaPlayerState.PLAYING,
        "active": True,
    }
    assert diagnostics["player"]["state"] == "playing"
    assert diagnostics["player"]["queue_length"] == 3
    assert diagnostics["player"]["max_volume"] == 0.6

    _remove_target(hass)
    await _settle(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, box)
    assert diagnostics["output"]["available"] is False
    assert diagnostics["output"]["target_state"] is None
