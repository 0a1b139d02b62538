"""Voice: the box's media search, and Assist driving the box through HA's conversation pipeline."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
import re
from typing import Any

from homeassistant.components.conversation import ConversationResult, async_converse
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.media_player import (
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_SEARCH_MEDIA,
    MediaPlayerEntityFeature,
)
from homeassistant.components.media_player.const import INTENT_MEDIA_SEARCH_AND_PLAY
from homeassistant.const import ATTR_ENTITY_ID, ATTR_SUPPORTED_FEATURES, STATE_PAUSED, STATE_PLAYING
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.search import Rank, normalize, rank_field

from .audio import make_track
from .conftest import ENTITY_ID, box_entry
from .helpers.player import playlist_id, track_id

README = Path(__file__).parent.parent / "README.md"


async def search(hass: HomeAssistant, query: str, **extra: Any) -> list[tuple[str, str]]:
    """Call media_player.search_media on the box; return (media id, title) of each result."""
    response = await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_SEARCH_MEDIA,
        {ATTR_ENTITY_ID: ENTITY_ID, "search_query": query, **extra},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return [(item.media_content_id, item.title) for item in response[ENTITY_ID].result]  # type: ignore[union-attr]


async def call_box(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call one of the integration's actions on the box."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": hass.config_entries.async_entries(DOMAIN)[0].entry_id, **data},
        blocking=True,
        return_response=service == "create_playlist",
    )


@pytest.fixture
def songs(library: Path) -> Path:
    """Add French nursery rhymes (accents, a ligature) to the generated library."""
    folder = library / "Comptines"
    make_track(
        folder / "01.wav",
        1.0,
        title="Frère Jacques",
        artist="Chœur des Écoliers",
        album="Comptines",
        track=1,
    )
    make_track(
        folder / "02.wav", 1.0, title="Jacques a dit", artist="Zoé", album="Comptines", track=2
    )
    make_track(
        folder / "03.wav", 1.0, title="Au clair de la lune", artist="Zoé", album="Nuit", track=3
    )
    return library


@pytest.fixture
async def box(hass: HomeAssistant, songs: Path) -> AsyncGenerator[MockConfigEntry]:
    """A loaded mpv box on the library with the rhymes."""
    hass.config.allowlist_external_dirs = {str(songs.parent)}
    config_entry = box_entry(songs)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.fixture
async def assist(hass: HomeAssistant, box: MockConfigEntry, tmp_path: Path) -> MockConfigEntry:
    """Assist (conversation + intents) set up, with the box exposed to it."""
    hass.config.config_dir = str(tmp_path / "config")  # custom sentences are read from there
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", ENTITY_ID, True)
    return box


async def say(hass: HomeAssistant, text: str, language: str = "en") -> ConversationResult:
    """Send a sentence through HA's conversation pipeline; it must have been understood."""
    result = await async_converse(hass, text, None, Context(), language=language)
    await hass.async_block_till_done()
    response = result.response
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, response.as_dict()
    return result


def playing(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[str, str | None]:
    """Return the box's state and the playlist the player plays."""
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    return current.state, entry.runtime_data.player.playlist_id


# Normalization and ranking ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Frère Jacques", "frere jacques"),
        ("FRÈRE-JACQUES!", "frere jacques"),
        ("  Chœur   des Écoliers ", "choeur des ecoliers"),
        ("Straße", "strasse"),
        ("Ørsted_Łódź", "orsted lodz"),
        ("\uff26\uff55\uff4c\uff4c width", "full width"),  # fullwidth letters
        ("?!", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    """Case, accents, ligatures, punctuation and width are folded."""
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("field", "rank"),
    [
        ("cat", Rank.EXACT),
        ("cats and dogs", Rank.PREFIX),
        ("big cat", Rank.WORD),
        ("wildcat", Rank.SUBSTRING),
        ("dog", None),
    ],
)
def test_rank_field(field: str, rank: Rank | None) -> None:
    """Exact beats prefix beats a word inside beats a substring."""
    assert rank_field(field, "cat") == rank


# The search service -----------------------------------------------------------------


async def test_search_is_case_and_accent_insensitive(
    hass: HomeAssistant, box: MockConfigEntry
) -> None:
    """ "frere jacques" finds "Frère Jacques"; artists and albums are searched too."""
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_FEATURES] & MediaPlayerEntityFeature.SEARCH_MEDIA
    assert await search(hass, "frere jacques") == [
        (f"track:{track_id(box, 'Frère Jacques')}", "Frère Jacques")
    ]
    assert await search(hass, "FRÈRE   JACQUES") == await search(hass, "frere jacques")
    # An artist with a ligature and accents, typed without them.
    assert [title for _, title in await search(hass, "choeur des ecoliers")] == ["Frère Jacques"]
    # An album: the folder playlist "Comptines" first, then its tracks.
    results = await search(hass, "comptines")
    assert results[0] == (f"playlist:{playlist_id(box, 'Comptines')}", "Comptines")
    assert {title for _, title in results[1:]} == {"Frère Jacques", "Jacques a dit"}
    assert await search(hass, "nothing like this") == []
    assert await search(hass, "  ?! ") == []


async def test_search_ranks_playlists_first_then_best_matches(
    hass: HomeAssistant, box: MockConfigEntry
) -> None:
    """Playlists before tracks; within each: exact, prefix, word, substring, scattered words."""
    for name in ("Wildanimals", "Zoo animals", "Animals party"):
        await call_box(hass, "create_playlist", name=name)
    results = await search(hass, "animals")
    assert [title for _, title in results[:4]] == [
        "Animals",
        "Animals party",
        "Zoo animals",
        "Wildanimals",
    ]
    assert all(media_id.startswith("playlist:") for media_id, _ in results[:4])
    # Then the tracks whose album is "Animals" (Cat, Cow, Dog: same rank, by title).
    assert [title for _, title in results[4:]] == ["Cat", "Cow", "Dog"]
    assert all(media_id.startswith("track:") for media_id, _ in results[4:])
    # A title match beats an artist match; words in any order and fields match last.
    assert [title for _, title in await search(hass, "jacques")] == [
        "Jacques a dit",
        "Frère Jacques",
    ]
    assert [title for _, title in await search(hass, "zoe lune")] == ["Au clair de la lune"]
    assert [title for _, title in await search(hass, "lune zoe")] == ["Au clair de la lune"]


async def test_search_filters_by_media_class(hass: HomeAssistant, box: MockConfigEntry) -> None:
    """media_filter_classes narrows to playlists, tracks, or tracks by artist."""
    comptines = f"playlist:{playlist_id(box, 'Comptines')}"
    assert await search(hass, "comptines", media_filter_classes=["playlist"]) == [
        (comptines, "Comptines")
    ]
    assert await search(hass, "comptines", media_filter_classes=["album"]) == [
        (comptines, "Comptines")
    ]
    tracks = await search(hass, "comptines", media_filter_classes=["track"])
    assert {title for _, title in tracks} == {"Frère Jacques", "Jacques a dit"}
    # Artist: only the artist field counts ("Zoé" sings two songs; no title has "zoe").
    by_artist = await search(hass, "zoe", media_filter_classes=["artist"])
    assert {title for _, title in by_artist} == {"Jacques a dit", "Au clair de la lune"}
    assert await search(hass, "comptines", media_filter_classes=["artist"]) == []
    assert await search(hass, "comptines", media_filter_classes=["movie"]) == []


async def test_search_within_a_playlist(
    hass: HomeAssistant, box: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A media_content_id narrows the search to that playlist's tracks (WebSocket command)."""
    client = await hass_ws_client(hass)
    comptines = f"playlist:{playlist_id(box, 'Comptines')}"

    async def ws_search(**fields: Any) -> list[str]:
        await client.send_json_auto_id(
            {"type": "media_player/search_media", "entity_id": ENTITY_ID, **fields}
        )
        reply = await client.receive_json()
        assert reply["success"], reply
        return [item["title"] for item in reply["result"]["result"]]

    within = {"media_content_type": "playlist", "media_content_id": comptines}
    assert await ws_search(search_query="jacques", **within) == ["Jacques a dit", "Frère Jacques"]
    assert await ws_search(search_query="lune", **within) == ["Au clair de la lune"]
    assert await ws_search(search_query="cat", **within) == []
    unknown = {"media_content_type": "playlist", "media_content_id": "playlist:nope"}
    assert await ws_search(search_query="jacques", **unknown) == []
    not_a_playlist = {"media_content_type": "track", "media_content_id": "track:nope"}
    assert await ws_search(search_query="jacques", **not_a_playlist) == []
    # A user playlist holding a track twice lists it once.
    frere = track_id(box, "Frère Jacques")
    created = await call_box(hass, "create_playlist", name="Twice", track_ids=[frere, frere])
    twice = {"media_content_type": "playlist", "media_content_id": f"playlist:{created['id']}"}
    assert await ws_search(search_query="frere", **twice) == ["Frère Jacques"]
    assert await ws_search(search_query="comptines", media_filter_classes=["playlist"]) == [
        "Comptines"
    ]


async def test_search_follows_the_catalog(
    hass: HomeAssistant, box: MockConfigEntry, songs: Path
) -> None:
    """The index follows playlist edits and rescans."""
    assert await search(hass, "berceuses") == []
    created = await call_box(hass, "create_playlist", name="Berceuses")
    assert [title for _, title in await search(hass, "berceuses")] == ["Berceuses"]
    await call_box(hass, "rename_playlist", playlist_id=created["id"], name="Dodo")
    assert await search(hass, "berceuses") == []
    assert [title for _, title in await search(hass, "dodo")] == ["Dodo"]
    # Track edits of a playlist change no name: the index stays, results stay right.
    await call_box(hass, "add_tracks", playlist_id=created["id"], track_ids=[track_id(box, "Cat")])
    assert [title for _, title in await search(hass, "dodo")] == ["Dodo"]
    await call_box(hass, "delete_playlist", playlist_id=created["id"])
    assert await search(hass, "dodo") == []
    # A new file on disk is found after a rescan.
    make_track(songs / "Comptines" / "04.wav", 1.0, title="Une souris verte", track=4)
    assert await search(hass, "souris") == []
    await call_box(hass, "rescan")
    assert [title for _, title in await search(hass, "souris verte")] == ["Une souris verte"]


# Assist -------------------------------------------------------------------------------


async def test_play_playlist_by_voice_english(hass: HomeAssistant, assist: MockConfigEntry) -> None:
    """ "play Animals on Music Box" (HassMediaSearchAndPlay) starts the Animals playlist."""
    result = await say(hass, "play Animals on Music Box")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == INTENT_MEDIA_SEARCH_AND_PLAY
    assert playing(hass, assist) == (STATE_PLAYING, playlist_id(assist, "Animals"))
    assert result.response.speech["plain"]["speech"] == "Playing media"
    # With a media class: "play the playlist …" narrows the search; accents need not be said.
    await say(hass, "play the track frere jacques on Music Box")
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    assert current.attributes["media_title"] == "Frère Jacques"


async def test_voice_search_without_result(hass: HomeAssistant, assist: MockConfigEntry) -> None:
    """A search that finds nothing plays nothing and says so."""
    result = await say(hass, "play Nothing Like This on Music Box")
    assert result.response.speech["plain"]["speech"] == "Media not found"
    assert playing(hass, assist) == ("idle", None)


async def test_play_playlist_by_intent_french(hass: HomeAssistant, assist: MockConfigEntry) -> None:
    """French: HA 2026.2.3's intents package has no French sentence for HassMediaSearchAndPlay.

    The intent itself (what a French sentence would produce) plays the playlist.
    """
    response = await intent.async_handle(
        hass,
        "conversation",
        INTENT_MEDIA_SEARCH_AND_PLAY,
        {"search_query": {"value": "comptines"}, "name": {"value": "Music Box"}},
        language="fr",
        assistant="conversation",
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert playing(hass, assist) == (STATE_PLAYING, playlist_id(assist, "Comptines"))


def readme_french_sentences() -> str:
    """Return the custom-sentence YAML for French that the README tells users to add."""
    text = README.read_text("utf-8")
    found = re.search(r"```yaml\n(language: fr\n.*?)```", text, re.DOTALL)
    assert found, "README: the French custom sentences block is missing"
    return found.group(1)


async def test_play_playlist_by_voice_french_custom_sentence(
    hass: HomeAssistant, assist: MockConfigEntry
) -> None:
    """With the README's custom sentence, "joue Comptines sur Music Box" goes through Assist."""
    folder = Path(hass.config.path("custom_sentences", "fr"))
    await hass.async_add_executor_job(folder.mkdir, 0o755, True, True)
    await hass.async_add_executor_job(
        (folder / "open_music_box.yaml").write_text, readme_french_sentences(), "utf-8"
    )
    result = await say(hass, "joue Comptines sur Music Box", "fr")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == INTENT_MEDIA_SEARCH_AND_PLAY
    assert playing(hass, assist) == (STATE_PLAYING, playlist_id(assist, "Comptines"))
    await say(hass, "lance frere jacques sur la Music Box", "fr")
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    assert current.attributes["media_title"] == "Frère Jacques"
    # French pause/resume sentences ship with HA.
    await say(hass, "mets Music Box en pause", "fr")
    assert playing(hass, assist)[0] == STATE_PAUSED


async def test_pause_resume_next_volume_by_voice(
    hass: HomeAssistant, assist: MockConfigEntry
) -> None:
    """The standard media_player intents drive the box (English sentences of HA 2026.2.3)."""
    await say(hass, "play Audiobook on Music Box")  # 2 chapters of 20 s: time to talk
    assert playing(hass, assist) == (STATE_PLAYING, playlist_id(assist, "Audiobook"))
    result = await say(hass, "pause Music Box")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == "HassMediaPause"
    assert playing(hass, assist)[0] == STATE_PAUSED
    result = await say(hass, "resume Music Box")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == "HassMediaUnpause"
    assert playing(hass, assist)[0] == STATE_PLAYING
    result = await say(hass, "next track on Music Box")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == "HassMediaNext"
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    assert current.attributes["media_title"] == "Chapter 2"
    result = await say(hass, "set Music Box volume to 30")
    assert result.response.intent is not None
    assert result.response.intent.intent_type == "HassSetVolume"
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    assert current.attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.3)


async def test_voice_volume_is_capped(hass: HomeAssistant, songs: Path, tmp_path: Path) -> None:
    """The box's maximum volume holds for Assist too."""
    hass.config.allowlist_external_dirs = {str(songs.parent)}
    config_entry = box_entry(songs, max_volume=40)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    hass.config.config_dir = str(tmp_path / "config")
    for component in ("homeassistant", "conversation", "intent"):
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()
    async_expose_entity(hass, "conversation", ENTITY_ID, True)
    await say(hass, "set Music Box volume to 90")
    current = hass.states.get(ENTITY_ID)
    assert current is not None
    assert current.attributes[ATTR_MEDIA_VOLUME_LEVEL] == pytest.approx(0.4)
    await hass.config_entries.async_unload(config_entry.entry_id)
