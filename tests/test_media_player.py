"""The box's media_player with a real libmpv (null audio output) on generated audio files."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiohttp import web
from homeassistant.components.media_player import (
    ATTR_MEDIA_ENQUEUE,
    ATTR_MEDIA_REPEAT,
    ATTR_MEDIA_SEEK_POSITION,
    ATTR_MEDIA_SHUFFLE,
    ATTR_MEDIA_VOLUME_LEVEL,
    ATTR_MEDIA_VOLUME_MUTED,
    DOMAIN as MP_DOMAIN,
    SERVICE_CLEAR_PLAYLIST,
)
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STOP,
    SERVICE_MEDIA_NEXT_TRACK,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_PREVIOUS_TRACK,
    SERVICE_MEDIA_SEEK,
    SERVICE_MEDIA_STOP,
    SERVICE_REPEAT_SET,
    SERVICE_SHUFFLE_SET,
    SERVICE_VOLUME_MUTE,
    SERVICE_VOLUME_SET,
    SERVICE_VOLUME_UP,
    STATE_IDLE,
    STATE_PAUSED,
    STATE_PLAYING,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.open_music_box.const import CONF_MAX_VOLUME, DOMAIN
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics

from .audio import make_track, write_wav
from .conftest import ENTITY_ID, box_entry
from .helpers.player import call, play, playlist_id, state, wait_for, wait_position


async def test_initial_state(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The box is idle at the default volume, with a device and a unique id."""
    current = state(hass)
    assert current.state == STATE_IDLE
    assert current.attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.5
    assert current.attributes["friendly_name"] == "Music Box"
    registered = er.async_get(hass).async_get(ENTITY_ID)
    assert registered is not None
    assert registered.unique_id == entry.entry_id
    assert registered.config_entry_id == entry.entry_id
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    assert device is not None
    assert registered.device_id == device.id
    assert device.name == entry.title


async def test_play_playlist_in_tag_order_then_idle(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A folder plays in track-number order, gaplessly (never idle between), then goes idle."""
    seen: list[tuple[str, str | None]] = []

    @callback  # in the loop, in order: a plain function would run later in the executor
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == ENTITY_ID:
            seen.append((new.state, new.attributes.get("media_title")))

    unsub = hass.bus.async_listen("state_changed", record)
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}")
    current = state(hass)
    assert current.state == STATE_PLAYING
    assert current.attributes["media_title"] == "Dog"
    assert current.attributes["media_artist"] == "Kids"
    assert current.attributes["media_album_name"] == "Animals"
    assert current.attributes["media_playlist"] == "Animals"
    assert current.attributes["media_duration"] == 1
    await wait_for(lambda: state(hass).state == STATE_IDLE)
    unsub()
    titles = [title for st, title in seen if st == STATE_PLAYING]
    assert titles[0] == "Dog"
    assert "Cat" in titles
    assert titles[-1] == "Cow"
    first_idle = next(i for i, (st, _) in enumerate(seen) if st == STATE_IDLE)
    assert all(st == STATE_PLAYING for st, _ in seen[:first_idle])


async def test_cover_image(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    """The embedded cover is served through the entity picture; tracks without one have none."""
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}")
    await call(hass, SERVICE_MEDIA_PAUSE)
    picture = state(hass).attributes["entity_picture"]
    client = await hass_client()
    response = await client.get(picture)
    assert response.status == 200
    assert (await response.read()).startswith(b"\x89PNG")
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert state(hass).attributes["media_title"] == "Cat"
    assert "entity_picture" not in state(hass).attributes


async def test_pause_resume_seek_write_position(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Position is written on pause, play and seek; paused stays paused."""
    await play(hass, f"playlist:{playlist_id(entry, 'Audiobook')}")
    await call(hass, SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: 10})
    after_seek = state(hass)
    assert after_seek.attributes["media_position"] == 10
    await call(hass, SERVICE_MEDIA_PAUSE)
    paused = state(hass)
    assert paused.state == STATE_PAUSED
    assert 10 <= paused.attributes["media_position"] <= 12
    assert (
        paused.attributes["media_position_updated_at"]
        > after_seek.attributes["media_position_updated_at"]
    )
    await wait_position(entry, 9.5)  # mpv reports no position until the seek has settled
    position = await entry.runtime_data.player.output.async_get_position()
    assert position is not None
    assert position <= 12
    await call(hass, SERVICE_MEDIA_PLAY)
    assert state(hass).state == STATE_PLAYING
    # Pausing twice or playing while playing changes nothing.
    await call(hass, SERVICE_MEDIA_PLAY)
    await call(hass, SERVICE_MEDIA_PAUSE)
    await call(hass, SERVICE_MEDIA_PAUSE)
    assert state(hass).state == STATE_PAUSED


async def test_previous_restarts_or_goes_back(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Previous restarts the track after 3 s, else goes to the previous track."""
    await play(hass, f"playlist:{playlist_id(entry, 'Audiobook')}")
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert state(hass).attributes["media_title"] == "Chapter 2"
    await call(hass, SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: 8})
    await call(hass, SERVICE_MEDIA_PREVIOUS_TRACK)
    current = state(hass)
    assert current.attributes["media_title"] == "Chapter 2"
    assert current.attributes["media_position"] == 0
    await call(hass, SERVICE_MEDIA_PREVIOUS_TRACK)
    assert state(hass).attributes["media_title"] == "Chapter 1"
    # At the first track, previous stays there (restarts it).
    await call(hass, SERVICE_MEDIA_PREVIOUS_TRACK)
    assert state(hass).attributes["media_title"] == "Chapter 1"
    # Next past the end without repeat: idle.
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert state(hass).state == STATE_IDLE
    # Play from idle starts the queue again.
    await call(hass, SERVICE_MEDIA_PLAY)
    assert state(hass).state == STATE_PLAYING


async def test_stop_and_clear(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Stop keeps the queue; clear empties it (Play then plays the last playlist again:
    tests/test_player_notices.py)."""
    await play(hass, f"playlist:{playlist_id(entry, 'Audiobook')}")
    await call(hass, SERVICE_MEDIA_STOP)
    assert state(hass).state == STATE_IDLE
    assert len(entry.runtime_data.player.queue) == 2
    await call(hass, SERVICE_CLEAR_PLAYLIST)
    assert entry.runtime_data.player.queue == []
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await call(hass, SERVICE_MEDIA_PREVIOUS_TRACK)
    await call(hass, SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: 3})
    assert state(hass).state == STATE_IDLE


async def test_volume_is_capped(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """No volume above the maximum, from set, step or a lowered option."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_MAX_VOLUME: 60})
    await hass.async_block_till_done()
    await call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.9})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.6
    await call(hass, SERVICE_VOLUME_UP)
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.6
    assert entry.runtime_data.player.output.mpv.volume == 60
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_MAX_VOLUME: 40})
    await hass.async_block_till_done()
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4
    await call(hass, SERVICE_VOLUME_MUTE, **{ATTR_MEDIA_VOLUME_MUTED: True})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_MUTED] is True
    assert entry.runtime_data.player.output.mpv.mute is True


async def test_shuffle_keeps_current_track(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Shuffle reorders the rest; turning it off restores the order at the current track."""
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}")
    await call(hass, SERVICE_MEDIA_PAUSE)
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    player = entry.runtime_data.player
    await call(hass, SERVICE_SHUFFLE_SET, **{ATTR_MEDIA_SHUFFLE: True})
    assert state(hass).attributes[ATTR_MEDIA_SHUFFLE] is True
    assert state(hass).attributes["media_title"] == "Cat"
    assert sorted(player.order) == [0, 1, 2]
    assert player.current is not None
    assert player.current.title == "Cat"
    await call(hass, SERVICE_SHUFFLE_SET, **{ATTR_MEDIA_SHUFFLE: True})
    await call(hass, SERVICE_SHUFFLE_SET, **{ATTR_MEDIA_SHUFFLE: False})
    assert player.order == [0, 1, 2]
    assert player.current.title == "Cat"
    # A new playlist while shuffling starts at a track and shuffles the rest.
    await call(hass, SERVICE_SHUFFLE_SET, **{ATTR_MEDIA_SHUFFLE: True})
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}")
    assert sorted(player.order) == [0, 1, 2]
    assert player.order[0] == 0


async def test_repeat_one_and_all(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Repeat one loops the track, repeat all wraps to the first track."""
    await call(hass, SERVICE_REPEAT_SET, **{ATTR_MEDIA_REPEAT: "one"})
    await play(hass, f"track:{entry.runtime_data.catalog.playlists()[0].track_ids[0]}")
    player = entry.runtime_data.player
    first = player.current
    advanced = asyncio.Event()
    unsub = player.async_add_listener(
        lambda: advanced.set() if player.position == 0 and player.state.value == "playing" else None
    )
    await asyncio.sleep(0)
    advanced.clear()
    await wait_for(advanced.is_set)
    unsub()
    assert player.current == first
    assert state(hass).state == STATE_PLAYING
    assert state(hass).attributes[ATTR_MEDIA_REPEAT] == "one"

    await call(hass, SERVICE_REPEAT_SET, **{ATTR_MEDIA_REPEAT: "all"})
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}")
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert state(hass).attributes["media_title"] == "Cow"
    await wait_for(lambda: state(hass).attributes.get("media_title") == "Dog")
    assert state(hass).state == STATE_PLAYING
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert state(hass).attributes["media_title"] == "Dog"
    await call(hass, SERVICE_MEDIA_PREVIOUS_TRACK)
    assert state(hass).attributes["media_title"] == "Cow"


async def test_enqueue_modes(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """add appends, next inserts after the current track, play inserts and plays it now."""
    catalog = entry.runtime_data.catalog
    book = catalog.playlist(playlist_id(entry, "Audiobook"))
    assert book is not None
    chapter1, chapter2 = book.track_ids
    player = entry.runtime_data.player
    await play(hass, f"track:{chapter1}", **{ATTR_MEDIA_ENQUEUE: "add"})  # empty queue: plays
    assert state(hass).attributes["media_title"] == "Chapter 1"
    await play(hass, f"playlist:{playlist_id(entry, 'Animals')}", **{ATTR_MEDIA_ENQUEUE: "add"})
    await play(hass, f"track:{chapter2}", **{ATTR_MEDIA_ENQUEUE: "next"})
    assert [player.queue[i].title for i in player.order] == [
        "Chapter 1",
        "Chapter 2",
        "Dog",
        "Cat",
        "Cow",
    ]
    assert state(hass).attributes["media_title"] == "Chapter 1"
    await play(hass, f"track:{chapter2}", **{ATTR_MEDIA_ENQUEUE: "play"})
    assert state(hass).attributes["media_title"] == "Chapter 2"
    assert len(player.order) == 6
    await play(hass, f"track:{chapter1}", **{ATTR_MEDIA_ENQUEUE: "replace"})
    assert [t.title for t in player.queue] == ["Chapter 1"]


async def test_m3u_titles_and_unknown_media(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An m3u playlist plays; unknown ids raise a translated error and change nothing."""
    await play(hass, f"playlist:{playlist_id(entry, 'Mix')}")
    assert state(hass).attributes["media_title"] == "Cow"  # tags win over #EXTINF
    for bad in ("playlist:nope", "track:nope", "something-else"):
        with pytest.raises(ServiceValidationError) as err:
            await play(hass, bad)
        assert err.value.translation_key == "unknown_media"
    assert state(hass).attributes["media_title"] == "Cow"  # tags win over #EXTINF
    assert state(hass).state == STATE_PLAYING


@pytest.mark.usefixtures("socket_enabled")
async def test_play_http_url(hass: HomeAssistant, entry: MockConfigEntry, tmp_path: Any) -> None:
    """An http(s) URL plays directly (served here by a loopback server)."""
    wav = write_wav(tmp_path / "remote.wav", 2.0)
    app = web.Application()

    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(wav)

    app.router.add_get("/remote.wav", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/remote.wav"
        await play(hass, url)
        assert state(hass).attributes["media_title"] == url
        await wait_position(entry, 0.5)
        assert state(hass).state == STATE_PLAYING
    finally:
        await call(hass, SERVICE_MEDIA_STOP)
        await runner.cleanup()


async def test_media_source_and_browse(
    hass: HomeAssistant, entry: MockConfigEntry, tmp_path: Any
) -> None:
    """Browse shows playlists, their tracks and HA's media sources; a local media-source plays."""
    media = tmp_path / "media"
    write_wav(media / "hello.wav", 1.0)
    # media_source (a dependency) is already set up and holds this very dict.
    hass.config.media_dirs.clear()
    hass.config.media_dirs["local"] = str(media)
    entity = hass.data[MP_DOMAIN].get_entity(ENTITY_ID)
    root = await entity.async_browse_media()
    titles = [child.title.split(" · ")[0] for child in root.children]  # durations follow
    assert titles == ["Animals", "Audiobook", "Mix", "Media"]
    animals = await entity.async_browse_media("playlist", root.children[0].media_content_id)
    assert [child.title for child in animals.children] == ["Dog · 0:01", "Cat · 0:01", "Cow · 0:01"]
    local = await entity.async_browse_media(None, "media-source://media_source/local")
    assert [child.title for child in local.children] == ["hello.wav"]
    with pytest.raises(Exception, match="Unknown playlist"):
        await entity.async_browse_media("playlist", "playlist:nope")

    await play(hass, "media-source://media_source/local/hello.wav")
    assert state(hass).attributes["media_title"] == "hello"
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, "media-source://media_source/local/missing.wav")
    assert err.value.translation_key == "file_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await play(hass, "media-source://nope/x")
    assert err.value.translation_key == "unknown_media"
    assert state(hass).attributes["media_title"] == "hello"


async def test_browse_without_media_folder(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A missing HA media folder leaves the library browsable (no Media child)."""
    hass.config.media_dirs.clear()
    hass.config.media_dirs["local"] = "/nonexistent/media"
    entity = hass.data[MP_DOMAIN].get_entity(ENTITY_ID)
    root = await entity.async_browse_media()
    titles = [child.title.split(" · ")[0] for child in root.children]  # durations follow
    assert titles == ["Animals", "Audiobook", "Mix"]


async def test_mpv_death_is_recovered(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """When mpv shuts down, the entity goes unavailable, a new mpv resumes the same track."""
    await play(hass, f"playlist:{playlist_id(entry, 'Audiobook')}")
    await call(hass, SERVICE_MEDIA_SEEK, **{ATTR_MEDIA_SEEK_POSITION: 6})
    player = entry.runtime_data.player
    old_output = player.output
    went_unavailable = asyncio.Event()

    def watch(event: Event) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == ENTITY_ID and new.state == STATE_UNAVAILABLE:
            went_unavailable.set()

    unsub = hass.bus.async_listen("state_changed", watch)
    await hass.async_add_executor_job(old_output.mpv.command, "quit")
    await wait_for(lambda: player.output is not old_output and state(hass).state == STATE_PLAYING)
    unsub()
    assert went_unavailable.is_set()
    current = state(hass)
    assert current.state == STATE_PLAYING
    assert current.attributes["media_title"] == "Chapter 1"
    # Restored where it was (about 6 s in), not from the start of the track.
    await wait_position(entry, 0.01)
    position = await player.output.async_get_position()
    assert position is not None
    assert 5.5 <= position < 12
    await call(hass, SERVICE_MEDIA_PAUSE)
    assert state(hass).state == STATE_PAUSED


async def test_libmpv_missing_raises_repair_then_recovers(
    hass: HomeAssistant, library: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libmpv the entry waits with a repair issue (no crash), and loads once it is back."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    monkeypatch.setitem(sys.modules, "mpv", None)
    config_entry = box_entry(library)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state.name == "SETUP_RETRY"
    assert ir.async_get(hass).async_get_issue(DOMAIN, "libmpv_missing") is not None
    monkeypatch.undo()
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state.name == "LOADED"
    assert ir.async_get(hass).async_get_issue(DOMAIN, "libmpv_missing") is None
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_diagnostics(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Diagnostics show library counts, skipped entries, the output and the player."""
    data = await async_get_config_entry_diagnostics(hass, entry)
    assert data["library"]["tracks"] == 5
    assert data["library"]["playlists"] == {"folder": 2, "m3u": 1, "user": 0}
    assert data["output"]["type"] == "mpv"
    assert data["output"]["null_fallback"] is True
    assert data["output"]["mpv_version"].startswith("mpv ")
    assert data["player"]["state"] == "idle"


REDACTED = "**REDACTED**"


async def test_diagnostics_redact_paths(
    hass: HomeAssistant, entry: MockConfigEntry, library: Any
) -> None:
    """The library folder and the paths of skipped files (names of people, places) are hidden."""
    await hass.async_add_executor_job((library / "Animals" / "Broken.mp3").write_bytes, b"junk")
    await entry.runtime_data.async_rescan()
    data = await async_get_config_entry_diagnostics(hass, entry)
    assert data["entry"]["data"]["library_path"] == REDACTED
    assert data["library"]["skipped"] == {"corrupt": 1}
    assert data["library"]["skipped_entries"] == [
        {"path": REDACTED, "reason": "corrupt", "playlist": "Animals"}
    ]
    assert str(library) not in repr(data)


async def test_unload_releases_mpv(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unloading terminates mpv; the entity is gone."""
    output = entry.runtime_data.player.output
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert output.mpv is None
    assert state(hass).state == STATE_UNAVAILABLE


async def test_home_assistant_stop_releases_mpv(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """HA does not unload entries when it stops: the box releases libmpv itself."""
    output = entry.runtime_data.player.output
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert output.mpv is None


async def test_every_format_plays_through(hass: HomeAssistant, tmp_path: Any, library: Any) -> None:
    """mp3, flac, ogg, opus, m4a and wav each play to their end in one queue (real libmpv)."""
    formats = ["mp3", "flac", "ogg", "opus", "m4a", "wav"]
    folder = library / "Formats"
    for number, ext in enumerate(formats, start=1):
        make_track(folder / f"{number:02d} {ext}.{ext}", 0.6, title=ext, track=number)
    hass.config.allowlist_external_dirs = {str(library.parent)}
    config_entry = box_entry(library)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    titles: list[str] = []
    player = config_entry.runtime_data.player
    unsub = player.async_add_listener(
        lambda: (
            titles.append(player.current.title)
            if player.current
            and player.state.value == "playing"
            and (not titles or titles[-1] != player.current.title)
            else None
        )
    )
    await play(hass, f"playlist:{playlist_id(config_entry, 'Formats')}")
    await wait_for(lambda: state(hass).state == STATE_IDLE)
    unsub()
    assert titles == formats
    await hass.config_entries.async_unload(config_entry.entry_id)
