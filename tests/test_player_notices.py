"""The player tells what it plays and why it did not do as asked (playlist, play, volume cap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.conversation import async_converse
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.media_player import ATTR_MEDIA_VOLUME_LEVEL, DOMAIN as MP_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_PLAYING
from homeassistant.core import Context, Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box import logbook
from custom_components.open_music_box.const import DOMAIN

from .conftest import ENTITY_ID, box_entry
from .helpers.player import playlist_id


async def call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a media_player action on the box."""
    await hass.services.async_call(
        MP_DOMAIN, service, {ATTR_ENTITY_ID: ENTITY_ID, **data}, blocking=True
    )
    await hass.async_block_till_done()


async def play_animals(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Play the Animals playlist on the box."""
    animals = playlist_id(entry, "Animals")
    await call(
        hass, "play_media", media_content_type="playlist", media_content_id=f"playlist:{animals}"
    )


def attributes(hass: HomeAssistant) -> dict[str, Any]:
    """Return the box's state attributes."""
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    return dict(state.attributes)


@pytest.fixture
async def capped(hass: HomeAssistant, library: Path) -> MockConfigEntry:
    """A box whose maximum volume is 40 %."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    config_entry = box_entry(library, max_volume=40, default_volume=20)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


async def test_play_on_empty_queue_plays_the_last_playlist(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The entity names its playlist; Play after the queue was cleared plays it again."""
    await play_animals(hass, entry)
    assert attributes(hass)["media_playlist"] == "Animals"
    await call(hass, "clear_playlist")
    assert "media_playlist" not in attributes(hass)
    await call(hass, "media_play")
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state == STATE_PLAYING
    assert state.attributes["media_playlist"] == "Animals"
    assert state.attributes["media_title"] == "Dog"


async def test_play_after_a_restart_plays_the_last_playlist(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The last playlist is stored: after a restart, Play on the empty box plays it again."""
    await play_animals(hass, entry)
    await call(hass, "media_stop")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert not entry.runtime_data.player.queue
    await call(hass, "media_play")
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state == STATE_PLAYING
    assert state.attributes["media_playlist"] == "Animals"


async def test_play_with_nothing_played_yet_says_why(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A new box has no last playlist: Play is a translated error, not a silent no-op."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "media_play")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "nothing_to_play"
    assert "Music Box" in str(err.value)


async def test_volume_limit_is_shown_and_logged(
    hass: HomeAssistant, capped: MockConfigEntry
) -> None:
    """Above the maximum: the attribute says so and the log book gets a translated line."""
    events = async_capture_events(hass, f"{DOMAIN}_volume_limited")
    assert attributes(hass)["volume_limited"] is False
    await call(hass, "volume_set", volume_level=0.9)
    assert attributes(hass)[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.4)
    assert attributes(hass)["volume_limited"] is True
    assert len(events) == 1

    described: dict[str, Any] = {}

    def describe(domain: str, event_type: str, describer: Any) -> None:
        described[event_type] = describer

    logbook.async_describe_events(hass, describe)
    entry = described[f"{DOMAIN}_volume_limited"](events[0])
    assert entry == {
        "name": "Music Box",
        "message": "volume limited to 40 % (the box's maximum volume); 90 % was asked for",
        "entity_id": ENTITY_ID,
    }

    await call(hass, "volume_set", volume_level=0.3)
    assert attributes(hass)["volume_limited"] is False
    await call(hass, "volume_set", volume_level=0.4)  # exactly the maximum: not limited
    assert attributes(hass)["volume_limited"] is False
    assert len(events) == 1


async def test_french_log_book_line(hass: HomeAssistant, capped: MockConfigEntry) -> None:
    """The log book line is in the server's language."""
    hass.config.language = "fr"
    events: list[Event] = async_capture_events(hass, f"{DOMAIN}_volume_limited")
    await call(hass, "volume_set", volume_level=1.0)
    assert events[0].data["message"] == (
        "volume limité à 40 % (le volume maximum de la boîte) ; 100 % était demandé"
    )


async def test_assist_answers_with_the_limit(
    hass: HomeAssistant, capped: MockConfigEntry, tmp_path: Path
) -> None:
    """'Set the volume to 90' on a box capped at 40 % answers with the cap, not 'Volume set'."""
    hass.config.config_dir = str(tmp_path / "config")
    for component in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", ENTITY_ID, True)

    result = await async_converse(hass, "set Music Box volume to 90", None, Context(), "en")
    response = result.response
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, response.as_dict()
    assert (
        response.speech["plain"]["speech"]
        == "Volume limited to 40 %, the maximum volume of Music Box"
    )
    assert attributes(hass)[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.4)

    result = await async_converse(hass, "set Music Box volume to 30", None, Context(), "en")
    assert result.response.speech["plain"]["speech"] != (
        "Volume limited to 40 %, the maximum volume of Music Box"
    )
    assert attributes(hass)[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.3)


async def test_volume_limit_from_a_websocket_client(
    hass: HomeAssistant, capped: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Whoever asks, the reason shows: a WebSocket client's volume goes through the same cap."""
    events = async_capture_events(hass, f"{DOMAIN}_volume_limited")
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/player/volume", "entry_id": capped.entry_id, "volume": 0.8}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    await hass.async_block_till_done()
    assert attributes(hass)[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.4)
    assert attributes(hass)["volume_limited"] is True
    assert [event.data["requested"] for event in events] == ["80"]
