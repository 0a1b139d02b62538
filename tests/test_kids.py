"""Children's features: the volume cap on every path and its number entity, resume points of
audiobooks (across reloads and restarts), and the sleep timer. Real HA core, real libmpv (ao=null);
the timer's minutes pass with async_fire_time_changed, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    SERVICE_MEDIA_NEXT_TRACK,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_DOWN,
    SERVICE_VOLUME_SET,
    SERVICE_VOLUME_UP,
    STATE_IDLE,
    STATE_PAUSED,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.loader import DATA_CUSTOM_COMPONENTS
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
    async_test_home_assistant,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.open_music_box.box import MusicBox
from custom_components.open_music_box.children.resume import SAVE_INTERVAL, PlaylistMode
from custom_components.open_music_box.children.sleep_timer import (
    FADE_SECONDS,
    FADE_STEP_SECONDS,
    FADE_STEPS,
    MAX_MINUTES,
)
from custom_components.open_music_box.const import (
    CONF_DEFAULT_VOLUME,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_TARGET_ENTITY,
    DOMAIN,
    OUTPUT_ENTITY,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
)
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.library import folder_playlist_id, track_id
from custom_components.open_music_box.playback.player import PlayState

from .conftest import ENTITY_ID, box_entry
from .target_player import TARGET_ID, TargetPlayer, async_setup_target_platform
from .test_media_player import wait_for, wait_position
from .test_websocket_api import Client

ANIMALS = folder_playlist_id("Animals")
AUDIOBOOK = folder_playlist_id("Audiobook")
DOG, CAT, COW = (track_id(f"Animals/{name}.wav") for name in ("01 Dog", "02 Cat", "03 Cow"))
CHAPTER_1, CHAPTER_2 = (track_id(f"Audiobook/Chapter {n}.wav") for n in (1, 2))
NUMBER_ID = "number.music_box_max_volume"
SENSOR_ID = "sensor.music_box_sleep_timer"


# Helpers ----------------------------------------------------------------------------------------


def the_box(entry: MockConfigEntry) -> MusicBox:
    """Return the box of a loaded entry."""
    box: MusicBox = entry.runtime_data
    return box


def state(hass: HomeAssistant, entity_id: str = ENTITY_ID) -> State:
    """Return an entity's state."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


async def player_call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a media_player service on the box."""
    await hass.services.async_call(
        MP_DOMAIN, service, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done()


async def play_media(hass: HomeAssistant, playlist_id: str) -> None:
    """Start a playlist as the dashboard does (play_media of playlist:<id>)."""
    await player_call(
        hass,
        SERVICE_PLAY_MEDIA,
        **{ATTR_MEDIA_CONTENT_ID: f"playlist:{playlist_id}", ATTR_MEDIA_CONTENT_TYPE: "music"},
    )


async def mpv_volume(hass: HomeAssistant, entry: MockConfigEntry) -> float:
    """Return the volume mpv itself plays at (0..100), read off the loop."""
    mpv = the_box(entry).player.output.mpv  # type: ignore[attr-defined]
    return float(await hass.async_add_executor_job(lambda: mpv.volume))


async def set_up(hass: HomeAssistant, entry: MockConfigEntry, library: Path) -> MockConfigEntry:
    """Load a box on `library`."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def set_mode(
    hass: HomeAssistant, entry: MockConfigEntry, playlist_id: str, mode: str
) -> None:
    """Set a playlist's mode with the action."""
    await hass.services.async_call(
        DOMAIN,
        "set_playlist_mode",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": playlist_id, "mode": mode},
        blocking=True,
    )


async def list_playlists(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Return the playlists index (by id) as the list action answers it."""
    response = await hass.services.async_call(
        DOMAIN,
        "list_playlists",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    playlists: list[dict[str, Any]] = response["playlists"]  # type: ignore[assignment]
    return {p["id"]: p for p in playlists}


async def tick(hass: HomeAssistant, when: datetime) -> None:
    """Let Home Assistant's timers due by `when` run, and their work finish."""
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


async def flush(hass: HomeAssistant) -> None:
    """Write the store's pending delayed save now, as Home Assistant does when it stops."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


def stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """Return what the box's file holds."""
    data: dict[str, Any] = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    return data


def without_at(point: dict[str, Any]) -> dict[str, Any]:
    """Return a stored resume point without when it was written."""
    return {key: value for key, value in point.items() if key != "at"}


def non_admin(hass: HomeAssistant) -> Context:
    """Return the context of a call by a regular (non-admin) user."""
    group = hass.auth._store._groups[GROUP_ID_USER]
    user = MockUser(groups=[group]).add_to_hass(hass)
    return Context(user_id=user.id)


@pytest.fixture
async def capped(hass: HomeAssistant, library: Path) -> AsyncGenerator[MockConfigEntry]:
    """A box (mpv) capped at 40 %; its default volume (50 %) starts capped too."""
    entry = await set_up(hass, box_entry(library, None, **{CONF_MAX_VOLUME: 40}), library)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def ws(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """An admin's WebSocket connection to the box."""
    return Client(await hass_ws_client(hass), entry.entry_id)


# Max volume: every path ------------------------------------------------------------------------


async def test_volume_set_is_capped(hass: HomeAssistant, capped: MockConfigEntry) -> None:
    """volume_set above the cap plays at the cap; below it as asked."""
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4  # default 50 % capped
    assert await mpv_volume(hass, capped) == 40

    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4
    assert await mpv_volume(hass, capped) == 40

    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.25})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.25
    assert await mpv_volume(hass, capped) == 25


async def test_volume_steps_are_capped(hass: HomeAssistant, capped: MockConfigEntry) -> None:
    """volume_up stops at the cap, however often it is pressed; volume_down still works."""
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.3})
    for _ in range(4):
        await player_call(hass, SERVICE_VOLUME_UP)
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4
    assert await mpv_volume(hass, capped) == 40
    await player_call(hass, SERVICE_VOLUME_DOWN)
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.35)


async def test_websocket_volume_is_capped(
    hass: HomeAssistant, capped: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The WebSocket volume command is capped too, and clients see the cap."""
    client = Client(await hass_ws_client(hass), capped.entry_id)
    await client.ok("player/volume", volume=1.0)
    assert the_box(capped).player.volume == 0.4
    assert await mpv_volume(hass, capped) == 40
    assert the_box(capped).live.player_state()["max_volume"] == 0.4


async def test_entity_output_receives_the_capped_volume(hass: HomeAssistant, library: Path) -> None:
    """Through another media player, the target only ever gets capped volumes."""
    add = await async_setup_target_platform(hass)
    speaker = TargetPlayer()
    add([speaker])
    await hass.async_block_till_done()
    entry = await set_up(
        hass,
        box_entry(
            library,
            {CONF_OUTPUT: OUTPUT_ENTITY, CONF_TARGET_ENTITY: TARGET_ID},
            **{CONF_MAX_VOLUME: 60},
        ),
        library,
    )
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    await player_call(hass, SERVICE_VOLUME_UP)
    await the_box(entry).async_play_playlist(ANIMALS)
    await hass.async_block_till_done()

    volumes = [call.data["volume"] for call in speaker.services("volume_set")]
    assert volumes
    assert max(volumes) == 0.6
    assert state(hass, TARGET_ID).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.6
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_playlist_started_like_a_tag_stays_capped(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A playlist started the way tags and voice start one plays at the (lowered) cap."""
    box = the_box(entry)
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.9})
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 30}, blocking=True
    )
    await hass.async_block_till_done()

    await box.async_play_playlist(ANIMALS)
    await hass.async_block_till_done()
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.3
    assert await mpv_volume(hass, entry) == 30


# Max volume: the number entity ---------------------------------------------------------------


async def test_max_volume_number_entity(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A 0-100 % config slider on the box's device, with a translated name."""
    number = state(hass, NUMBER_ID)
    assert number.state == "100.0"
    assert number.attributes["friendly_name"] == "Music Box Max volume"
    assert number.attributes["min"] == 0
    assert number.attributes["max"] == 100
    assert number.attributes["step"] == 1
    assert number.attributes["mode"] == "slider"
    assert number.attributes["unit_of_measurement"] == "%"

    registry = er.async_get(hass)
    registered = registry.async_get(NUMBER_ID)
    assert registered is not None
    assert registered.unique_id == f"{entry.entry_id}_max_volume"
    assert registered.entity_category is EntityCategory.CONFIG
    assert registered.translation_key == "max_volume"
    player = registry.async_get(ENTITY_ID)
    assert player is not None
    assert registered.device_id == player.device_id
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert (DOMAIN, entry.entry_id) in device.identifiers


async def test_admin_sets_the_max_volume(
    hass: HomeAssistant, entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """The number changes the options; the running box applies them at once (no reload)."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    player_before = box.player
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.8})

    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 30},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()

    assert entry.options[CONF_MAX_VOLUME] == 30
    assert entry.options[CONF_DEFAULT_VOLUME] == 30  # kept at or below the maximum
    assert state(hass, NUMBER_ID).state == "30.0"
    assert box.player is player_before  # applied live
    assert play_state(entry) is PlayState.PLAYING
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.3
    assert await mpv_volume(hass, entry) == 30
    assert box.live.player_state()["max_volume"] == 0.3

    # Raising the cap does not raise the volume, but clients see the new cap.
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 70}, blocking=True
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MAX_VOLUME] == 70
    assert entry.options[CONF_DEFAULT_VOLUME] == 30
    assert box.player.volume == 0.3
    assert box.live.player_state()["max_volume"] == 0.7


async def test_options_flow_change_shows_on_the_number(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A cap changed elsewhere (options flow) is what the number shows."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_MAX_VOLUME: 45})
    await hass.async_block_till_done()
    assert state(hass, NUMBER_ID).state == "45.0"
    assert the_box(entry).player.volume == 0.45


async def test_non_admin_cannot_change_the_max_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A regular user may use the box but not raise its cap: a translated error, no change."""
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 20},
            blocking=True,
            context=non_admin(hass),
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "max_volume_admin_only"
    assert str(err.value).startswith("Only an administrator can change the maximum volume")
    assert entry.options[CONF_MAX_VOLUME] == 100
    assert state(hass, NUMBER_ID).state == "100.0"


@pytest.mark.parametrize("value", [-1, 101, 1000])
async def test_max_volume_out_of_range(
    hass: HomeAssistant, entry: MockConfigEntry, value: int
) -> None:
    """Values outside 0-100 are refused before they reach the box."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            NUMBER_DOMAIN,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: value},
            blocking=True,
        )
    assert entry.options[CONF_MAX_VOLUME] == 100


async def test_max_volume_zero_silences(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """0 % is allowed: the box is silent whatever volume is asked for."""
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: NUMBER_ID, ATTR_VALUE: 0}, blocking=True
    )
    await hass.async_block_till_done()
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 1.0})
    assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0
    assert await mpv_volume(hass, entry) == 0


# Resume: modes ----------------------------------------------------------------------------------


async def test_playlists_are_albums_until_made_audiobooks(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """Every playlist is an album; the mode shows in the index, in get, and in the events."""
    assert {p["mode"] for p in (await list_playlists(hass, entry)).values()} == {"album"}
    feed = await ws.feed()
    assert {p["mode"] for p in feed.events[0]["data"]["playlists"]} == {"album"}

    await set_mode(hass, entry, AUDIOBOOK, "audiobook")

    index = await list_playlists(hass, entry)
    assert index[AUDIOBOOK]["mode"] == "audiobook"
    assert index[ANIMALS]["mode"] == "album"
    got = await hass.services.async_call(
        DOMAIN,
        "get_playlist",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": AUDIOBOOK},
        blocking=True,
        return_response=True,
    )
    assert got is not None
    assert got["mode"] == "audiobook"
    assert (await ws.ok("playlists/get", playlist_id=AUDIOBOOK))["mode"] == "audiobook"
    (event,) = await feed.of_type(the_box(entry).events.seq, "playlists")
    assert {p["id"]: p["mode"] for p in event["playlists"]}[AUDIOBOOK] == "audiobook"

    # Over the WebSocket (admin), with the new summary as the result.
    result = await ws.ok("playlists/set_mode", playlist_id=AUDIOBOOK, mode="album")
    assert (result["id"], result["mode"]) == (AUDIOBOOK, "album")
    (event,) = await feed.of_type(result["seq"], "playlists")
    assert {p["mode"] for p in event["playlists"]} == {"album"}


async def test_set_mode_bad_input(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    ws: Client,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """Unknown playlists and modes, wrong types, other users: refused, nothing changes."""
    with pytest.raises(ServiceValidationError) as err:
        await set_mode(hass, entry, "nope", "audiobook")
    assert err.value.translation_key == "unknown_playlist"
    with pytest.raises(vol.Invalid):
        await set_mode(hass, entry, AUDIOBOOK, "podcast")
    with pytest.raises(vol.Invalid):
        await set_mode(hass, entry, "", "album")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_playlist_mode",
            {ATTR_CONFIG_ENTRY_ID: "nope", "playlist_id": AUDIOBOOK, "mode": "audiobook"},
            blocking=True,
        )
    assert err.value.translation_key == "entry_not_found"
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "set_playlist_mode",
            {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": AUDIOBOOK, "mode": "audiobook"},
            blocking=True,
            context=non_admin(hass),
        )

    await ws.error("playlists/set_mode", "unknown_playlist", playlist_id="nope", mode="album")
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK, mode="podcast")
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK)
    await ws.error("playlists/set_mode", "invalid_format", playlist_id=AUDIOBOOK, mode=1)
    reader = Client(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)
    await reader.error("playlists/set_mode", "unauthorized", playlist_id=AUDIOBOOK, mode="album")
    await ws.works()

    assert {p["mode"] for p in (await list_playlists(hass, entry)).values()} == {"album"}


# Resume: where an audiobook stops -------------------------------------------------------------


async def play_chapter_2_to_6_s(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Play the audiobook's second chapter up to 6 s (a seek, then real playback)."""
    box = the_box(entry)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await box.player.async_seek(5.5)
    await wait_position(entry, 6.0)


def play_state(entry: MockConfigEntry) -> PlayState:
    """Return what the player is doing (read afresh: not narrowed by earlier checks)."""
    return the_box(entry).player.state


def current(entry: MockConfigEntry) -> tuple[str | None, float]:
    """Return the current track and the player's position anchor."""
    player = the_box(entry).player
    track = player.current
    return (None if track is None else track.id), player.position


async def test_audiobook_resumes_after_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Played to 6 s and stopped: after a reload it starts at the same track, at ≈ 6 s."""
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await player_call(hass, SERVICE_MEDIA_STOP)
    point = the_box(entry).resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_2
    assert 6.0 <= point["position"] < 9.0  # 6 s, plus the time the stop took

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert without_at(stored(hass_storage, entry)["resume_points"][AUDIOBOOK]) == point

    await play_media(hass, AUDIOBOOK)
    track, position = current(entry)
    assert track == CHAPTER_2
    assert position == pytest.approx(point["position"])
    assert state(hass).attributes["media_title"] == "Chapter 2"
    await wait_position(entry, point["position"])  # mpv itself plays from there


async def test_album_starts_over(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An album keeps no resume point: it starts again at its first track."""
    await play_media(hass, ANIMALS)
    await player_call(hass, SERVICE_MEDIA_NEXT_TRACK)
    await player_call(hass, SERVICE_MEDIA_PAUSE)
    await player_call(hass, SERVICE_MEDIA_STOP)
    assert the_box(entry).resume.point(ANIMALS) is None

    await play_media(hass, ANIMALS)
    assert current(entry) == (DOG, 0.0)
    # The audiobook too, while it is an album.
    await play_chapter_2_to_6_s(hass, entry)
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_audiobook_resumes_after_a_restart(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant stops while the audiobook plays: the next start resumes it there."""
    entry = await set_up(hass, box_entry(library), library)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await set_mode(hass, entry, ANIMALS, "album")
    await play_chapter_2_to_6_s(hass, entry)

    await hass.async_stop(force=True)  # no unload: the box writes its point as HA stops

    point = stored(hass_storage, entry)["resume_points"][AUDIOBOOK]
    assert point["track_id"] == CHAPTER_2
    assert 6.0 <= point["position"] < 9.0  # 6 s, plus the time the stop took
    assert stored(hass_storage, entry)["playlist_modes"] == {AUDIOBOOK: "audiobook"}

    async with async_test_home_assistant(config_dir=hass.config.config_dir) as restarted:
        restarted.data.pop(DATA_CUSTOM_COMPONENTS)
        again = MockConfigEntry(
            domain=DOMAIN,
            entry_id=entry.entry_id,
            title=entry.title,
            unique_id=entry.unique_id,
            data=dict(entry.data),
            options=dict(entry.options),
        )
        await set_up(restarted, again, library)
        assert (await list_playlists(restarted, again))[AUDIOBOOK]["mode"] == "audiobook"

        await play_media(restarted, AUDIOBOOK)
        track, position = current(again)
        assert track == CHAPTER_2
        assert position == pytest.approx(point["position"])
        await play_media(restarted, ANIMALS)  # an album still starts over
        assert current(again) == (DOG, 0.0)

        assert await restarted.config_entries.async_unload(again.entry_id)
        await restarted.async_stop(force=True)


async def test_points_are_saved_on_pause_seek_track_change_and_every_10_s(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Each move of an audiobook is written (after the store's short delay)."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_media(hass, AUDIOBOOK)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": 0.0}

    await box.player.async_seek(3.0)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": 3.0}
    await flush(hass)
    assert stored(hass_storage, entry)["resume_points"][AUDIOBOOK]["position"] == 3.0

    # Every 10 s while playing, where playback has got to.
    await wait_position(entry, 4.0)
    await tick(hass, dt_util.utcnow() + SAVE_INTERVAL)
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["position"] >= 4.0

    await player_call(hass, SERVICE_MEDIA_PAUSE)
    paused_at = box.player.position
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": round(paused_at, 1)}
    # Nothing moves while paused: the 10 s save changes nothing.
    await tick(hass, dt_util.utcnow() + SAVE_INTERVAL * 2)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_1, "position": round(paused_at, 1)}

    await player_call(hass, SERVICE_MEDIA_PLAY)
    await player_call(hass, SERVICE_MEDIA_NEXT_TRACK)
    assert box.resume.point(AUDIOBOOK) == {"track_id": CHAPTER_2, "position": 0.0}

    # Volume changes are not moves: no write is scheduled for them.
    await flush(hass)
    before = dict(stored(hass_storage, entry)["resume_points"][AUDIOBOOK])
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.2})
    await flush(hass)
    assert stored(hass_storage, entry)["resume_points"][AUDIOBOOK] == before


async def test_another_playlist_keeps_the_audiobooks_place(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Starting something else while an audiobook plays keeps where the audiobook was."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await play_media(hass, ANIMALS)
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_2
    assert point["position"] >= 6.0
    assert box.resume.point(ANIMALS) is None

    # Clearing the queue (playlist forgotten first) also keeps the place.
    await play_media(hass, AUDIOBOOK)
    await box.player.async_seek(9.0)
    await box.player.async_clear()
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert (point["track_id"], point["position"] >= 9.0) == (CHAPTER_2, True)


async def test_explicit_start_track_wins(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A start track given by the caller (tag link, WebSocket) is played from its start."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_chapter_2_to_6_s(hass, entry)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_1)
    assert current(entry) == (CHAPTER_1, 0.0)
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2, position=2.0)
    assert current(entry) == (CHAPTER_2, 2.0)


async def test_made_an_audiobook_while_playing(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Switched to audiobook mid-way: it resumes from there; back to album forgets it."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await box.player.async_seek(8.0)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    point = box.resume.point(AUDIOBOOK)
    assert point is not None
    assert point["track_id"] == CHAPTER_1
    assert point["position"] >= 8.0

    await set_mode(hass, entry, AUDIOBOOK, "album")
    assert box.resume.point(AUDIOBOOK) is None
    await player_call(hass, SERVICE_MEDIA_STOP)
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_finished_audiobook_starts_over(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Played to its very end: the next time it starts at the beginning."""
    box = the_box(entry)
    await set_mode(hass, entry, ANIMALS, "audiobook")  # 1 s tracks: quick to finish
    await box.async_play_playlist(ANIMALS, start_track_id=COW)
    assert box.resume.point(ANIMALS) == {"track_id": COW, "position": 0.0}
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await hass.async_block_till_done()
    assert box.resume.point(ANIMALS) is None

    await play_media(hass, ANIMALS)
    assert current(entry) == (DOG, 0.0)


async def test_albums_and_single_tracks_keep_no_points(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A track played alone, or an album played to its end, leaves nothing to resume."""
    box = the_box(entry)
    await player_call(
        hass,
        SERVICE_PLAY_MEDIA,
        **{ATTR_MEDIA_CONTENT_ID: f"track:{COW}", ATTR_MEDIA_CONTENT_TYPE: "music"},
    )
    assert box.player.playlist_id is None
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await box.async_play_playlist(ANIMALS, start_track_id=COW)
    await wait_for(lambda: box.player.state is PlayState.IDLE)
    await hass.async_block_till_done()
    await flush(hass)
    assert stored(hass_storage, entry).get("resume_points", {}) == {}


# Resume: what is gone is forgotten ----------------------------------------------------------


async def test_points_of_removed_tracks_and_playlists_are_dropped(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Edits, deletions and files gone from disk drop what they make meaningless."""
    box = the_box(entry)
    created = await hass.services.async_call(
        DOMAIN,
        "create_playlist",
        {
            ATTR_CONFIG_ENTRY_ID: entry.entry_id,
            "name": "Story",
            "track_ids": [CHAPTER_1, CHAPTER_2],
        },
        blocking=True,
        return_response=True,
    )
    assert created is not None
    story = str(created["id"])
    assert created["mode"] == "album"
    await set_mode(hass, entry, story, "audiobook")
    await box.async_play_playlist(story, start_track_id=CHAPTER_2)
    await box.player.async_seek(4.0)
    await player_call(hass, SERVICE_MEDIA_STOP)
    assert box.resume.point(story) == {"track_id": CHAPTER_2, "position": 4.0}

    # Its track leaves the playlist: the point goes, the mode stays.
    await hass.services.async_call(
        DOMAIN,
        "remove_tracks",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": story, "track_ids": [CHAPTER_2]},
        blocking=True,
    )
    assert box.resume.point(story) is None
    assert box.resume.mode(story) == "audiobook"
    await play_media(hass, story)
    assert current(entry) == (CHAPTER_1, 0.0)
    await box.player.async_seek(2.0)
    await player_call(hass, SERVICE_MEDIA_STOP)

    # The playlist is deleted: its mode and point go too, and are not written again.
    await hass.services.async_call(
        DOMAIN,
        "delete_playlist",
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, "playlist_id": story},
        blocking=True,
    )
    await flush(hass)
    assert story not in stored(hass_storage, entry)["playlist_modes"]
    assert story not in stored(hass_storage, entry)["resume_points"]
    assert box.resume.mode(story) == "album"


async def test_point_of_a_deleted_file(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """The file under a resume point is deleted: the audiobook starts over, no error."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    (library / "Audiobook" / "Chapter 2.wav").unlink()
    await hass.services.async_call(
        DOMAIN, "rescan", {ATTR_CONFIG_ENTRY_ID: entry.entry_id}, blocking=True
    )
    assert box.resume.point(AUDIOBOOK) is None
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_1, 0.0)


async def test_point_of_a_vanished_file_in_a_user_playlist(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """A user playlist keeps the id of a vanished file; its point is dropped when played."""
    box = the_box(entry)
    story = box.catalog.create_playlist("Story", [CHAPTER_1, CHAPTER_2]).id
    box.set_playlist_mode(story, PlaylistMode.AUDIOBOOK)
    await box.async_play_playlist(story, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    (library / "Audiobook" / "Chapter 2.wav").unlink()
    await box.async_rescan()
    assert box.resume.point(story) == {"track_id": CHAPTER_2, "position": 0.0}  # id still listed

    await play_media(hass, story)
    assert current(entry) == (CHAPTER_1, 0.0)
    assert box.resume.point(story) == {"track_id": CHAPTER_1, "position": 0.0}


async def test_missing_library_folder_keeps_the_audiobooks(
    hass: HomeAssistant, entry: MockConfigEntry, library: Path
) -> None:
    """An unplugged drive does not erase modes and points; they are back with the folder."""
    box = the_box(entry)
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await box.async_play_playlist(AUDIOBOOK, start_track_id=CHAPTER_2)
    await player_call(hass, SERVICE_MEDIA_STOP)
    moved = library.parent / "elsewhere"
    await hass.async_add_executor_job(library.rename, moved)
    await box.async_rescan()
    assert not box.catalog.available
    assert box.resume.mode(AUDIOBOOK) == "audiobook"
    assert box.resume.point(AUDIOBOOK) is not None

    await hass.async_add_executor_job(moved.rename, library)
    await box.async_rescan()
    await play_media(hass, AUDIOBOOK)
    assert current(entry)[0] == CHAPTER_2


async def test_stale_stored_data_is_cleaned_at_start(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """Modes and points of playlists deleted while HA was off are dropped; odd modes are albums."""
    entry = box_entry(library)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "playlists": {},
            "playlist_modes": {AUDIOBOOK: "audiobook", ANIMALS: "weird", "ugone": "audiobook"},
            "resume_points": {
                AUDIOBOOK: {"track_id": CHAPTER_2, "position": 5.0},
                "ugone": {"track_id": DOG, "position": 1.0},
            },
        },
    }
    await set_up(hass, entry, library)
    box = the_box(entry)
    assert box.resume.mode(ANIMALS) == "album"
    assert box.resume.point("ugone") is None
    assert box.resume.mode("ugone") == "album"
    await play_media(hass, AUDIOBOOK)
    assert current(entry) == (CHAPTER_2, 5.0)
    await flush(hass)
    assert "ugone" not in stored(hass_storage, entry)["playlist_modes"]
    assert await hass.config_entries.async_unload(entry.entry_id)


# Sleep timer --------------------------------------------------------------------------------


async def sleep_timer(hass: HomeAssistant, minutes: Any) -> None:
    """Call the sleep_timer action on the box's media player."""
    await hass.services.async_call(
        DOMAIN, "sleep_timer", {ATTR_ENTITY_ID: ENTITY_ID, "minutes": minutes}, blocking=True
    )
    await hass.async_block_till_done()


def ends_at(entry: MockConfigEntry) -> datetime:
    """Return when the running timer ends."""
    end = the_box(entry).sleep_timer.ends_at
    assert end is not None
    return end


async def start_fade(hass: HomeAssistant, entry: MockConfigEntry) -> datetime:
    """Let time run to the start of the fade (10 s before the end); return the end."""
    end = ends_at(entry)
    await tick(hass, end - timedelta(seconds=FADE_SECONDS))
    return end


async def fade_step(hass: HomeAssistant, steps: int = 1) -> None:
    """Let fade steps (0.5 s each) run, one after the other."""
    for _ in range(steps):
        await tick(hass, dt_util.utcnow() + timedelta(seconds=FADE_STEP_SECONDS))


async def test_sleep_timer_fades_out_pauses_and_restores(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """Ten seconds of falling volume at the output, a pause, then the volume setting back."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    feed = await ws.feed()
    before = dt_util.utcnow()
    await sleep_timer(hass, 1)

    end = ends_at(entry)
    assert end.microsecond == 0
    assert before + timedelta(seconds=59) < end <= dt_util.utcnow() + timedelta(minutes=1)
    assert state(hass, SENSOR_ID).state == end.isoformat()
    assert state(hass, SENSOR_ID).attributes["device_class"] == "timestamp"
    assert state(hass, SENSOR_ID).attributes["friendly_name"] == "Music Box Sleep timer"
    players = await feed.of_type(box.events.seq, "player")
    assert players[-1]["sleep_timer_ends_at"] == end.isoformat()

    # Until 10 s before the end nothing happens.
    await tick(hass, end - timedelta(seconds=FADE_SECONDS + 5))
    assert box.player.volume == 0.5
    await start_fade(hass, entry)
    assert box.sleep_timer.fading
    assert box.player.volume == 0.5  # the first step comes 0.5 s later

    levels: list[float] = []
    for _ in range(FADE_STEPS - 1):
        await fade_step(hass)
        assert play_state(entry) is PlayState.PLAYING
        levels.append(await mpv_volume(hass, entry))
        assert state(hass).attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(levels[-1] / 100)
    assert levels == sorted(levels, reverse=True)
    assert len(set(levels)) == FADE_STEPS - 1
    assert levels[0] == pytest.approx(47.5)
    assert levels[-1] == pytest.approx(2.5)

    await fade_step(hass)  # the end
    assert play_state(entry) is PlayState.PAUSED
    assert state(hass).state == STATE_PAUSED
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert box.sleep_timer.ends_at is None
    assert not the_box(entry).sleep_timer.fading
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN
    players = await feed.of_type(box.events.seq, "player")
    assert players[-1]["sleep_timer_ends_at"] is None
    assert players[-1]["volume"] == 0.5

    # Nothing more happens later.
    await tick(hass, end + timedelta(minutes=5))
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5


async def test_cancel_during_the_fade_restores_the_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """0 minutes cancels: the volume comes back at once and the box plays on."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 2)
    end = await start_fade(hass, entry)
    for _ in range(5):
        await fade_step(hass)
    assert await mpv_volume(hass, entry) == pytest.approx(37.5)

    await sleep_timer(hass, 0)
    assert box.sleep_timer.ends_at is None
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN

    await tick(hass, end + timedelta(seconds=1))
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5


async def test_cancel_before_the_fade(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Cancelled early: nothing happens at the old end time; cancelling twice is harmless."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 5)
    end = ends_at(entry)
    await sleep_timer(hass, 0)
    await sleep_timer(hass, 0)
    await tick(hass, end - timedelta(seconds=FADE_SECONDS))
    await tick(hass, end + timedelta(seconds=1))
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5
    assert state(hass, SENSOR_ID).state == STATE_UNKNOWN


async def test_a_new_timer_replaces_the_running_one(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Set again (even during the fade): the volume comes back and only the new end counts."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    first = await start_fade(hass, entry)
    await fade_step(hass)
    await fade_step(hass)
    assert box.player.volume < 0.5

    await sleep_timer(hass, 3)
    second = ends_at(entry)
    assert second > first + timedelta(minutes=1)
    assert box.player.volume == 0.5
    assert state(hass, SENSOR_ID).state == second.isoformat()

    await fade_step(hass, FADE_STEPS + 2)  # the old fade does not go on
    assert play_state(entry) is PlayState.PLAYING
    assert box.player.volume == 0.5

    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5


async def test_paused_by_hand_the_timer_keeps_running(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A pause by hand does not end the timer: played again, the box still goes to sleep."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await player_call(hass, SERVICE_MEDIA_PAUSE)
    assert box.sleep_timer.ends_at is not None
    await player_call(hass, SERVICE_MEDIA_PLAY)
    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert play_state(entry) is PlayState.PAUSED


async def test_timer_ends_while_paused_or_stopped(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """At the end a paused box stays paused, a stopped one stopped; the volume is as it was."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass)
    await player_call(hass, SERVICE_MEDIA_PAUSE)  # paused by hand during the fade
    await fade_step(hass, FADE_STEPS - 1)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == 0.5
    assert box.sleep_timer.ends_at is None

    await player_call(hass, SERVICE_MEDIA_STOP)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass, FADE_STEPS)
    assert state(hass).state == STATE_IDLE
    assert box.player.volume == 0.5


async def test_volume_changed_during_the_fade_is_the_one_restored(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Someone sets the volume during the fade: the fade goes on from there, and gives it back."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    await fade_step(hass)
    await player_call(hass, SERVICE_VOLUME_SET, **{ATTR_MEDIA_VOLUME_LEVEL: 0.3})
    await fade_step(hass)
    assert box.player.volume == pytest.approx(0.3 * (FADE_STEPS - 2) / FADE_STEPS)
    await fade_step(hass, FADE_STEPS - 2)
    assert play_state(entry) is PlayState.PAUSED
    assert box.player.volume == pytest.approx(0.3)
    assert await mpv_volume(hass, entry) == 30


async def test_cancel_while_a_step_sets_the_volume(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A cancel that lands while a step waits for the output wins: no further step."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    await start_fade(hass, entry)
    # Fire the step without waiting: it is now waiting for mpv to take the new volume.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=FADE_STEP_SECONDS))
    await box.sleep_timer.async_cancel()
    await hass.async_block_till_done()
    for _ in range(3):
        await fade_step(hass)
    assert box.player.volume == 0.5
    assert await mpv_volume(hass, entry) == 50
    assert play_state(entry) is PlayState.PLAYING


async def test_unload_during_the_fade(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unloading the box ends the timer quietly; nothing runs afterwards."""
    box = the_box(entry)
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 1)
    end = await start_fade(hass, entry)
    await fade_step(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert box.sleep_timer.ends_at is None
    assert box.player.volume == 0.5
    await tick(hass, end + timedelta(seconds=5))


async def test_sleep_timer_over_the_websocket(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client
) -> None:
    """The WebSocket command starts, restarts and cancels, and answers with the end time."""
    result = await ws.ok("player/sleep_timer", minutes=30)
    assert result["ends_at"] == ends_at(entry).isoformat()
    assert ends_at(entry) > dt_util.utcnow() + timedelta(minutes=29)
    assert the_box(entry).live.player_state()["sleep_timer_ends_at"] == result["ends_at"]
    result = await ws.ok("player/sleep_timer", minutes=0)
    assert result["ends_at"] is None
    assert the_box(entry).live.player_state()["sleep_timer_ends_at"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"minutes": -1},
        {"minutes": MAX_MINUTES + 1},
        {"minutes": 1.5},
        {"minutes": "5"},
        {"minutes": True},
        {"minutes": None},
    ],
)
async def test_sleep_timer_websocket_bad_input(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Client, fields: dict[str, Any]
) -> None:
    """Bad minutes get a translated invalid_format error; the connection stays open."""
    error = await ws.error("player/sleep_timer", "invalid_format", **fields)
    assert error["translation_key"] == "invalid_input"
    assert the_box(entry).sleep_timer.ends_at is None
    await ws.works()


@pytest.mark.parametrize("minutes", [-1, MAX_MINUTES + 1, "abc", None])
async def test_sleep_timer_action_bad_input(
    hass: HomeAssistant, entry: MockConfigEntry, minutes: Any
) -> None:
    """Bad minutes are refused by the action's schema."""
    with pytest.raises(vol.Invalid):
        await sleep_timer(hass, minutes)
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "sleep_timer", {ATTR_ENTITY_ID: ENTITY_ID}, blocking=True
        )
    assert the_box(entry).sleep_timer.ends_at is None


async def test_longest_timer_is_accepted(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """720 minutes (12 h) is the maximum."""
    await sleep_timer(hass, MAX_MINUTES)
    assert ends_at(entry) > dt_util.utcnow() + timedelta(hours=11, minutes=59)


async def test_diagnostics_show_the_childrens_features(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Diagnostics count audiobooks and points, and show the timer."""
    await set_mode(hass, entry, AUDIOBOOK, "audiobook")
    await play_media(hass, AUDIOBOOK)
    await sleep_timer(hass, 10)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["resume"] == {"audiobooks": 1, "resume_points": 1}
    assert diagnostics["sleep_timer"] == {
        "ends_at": ends_at(entry).isoformat(),
        "fading": False,
    }
