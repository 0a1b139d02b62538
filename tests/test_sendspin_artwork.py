"""Sendspin players with a screen: the track's cover, in the format and size they asked for."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from io import BytesIO
from pathlib import Path
from typing import Any

from aiosendspin.models.artwork import ArtworkChannel
from aiosendspin.models.types import ArtworkSource, PictureFormat
from homeassistant.core import HomeAssistant
from mutagen.id3 import APIC
from mutagen.wave import WAVE
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_CLIENT_ID,
    CONF_OFFSET_MS,
    CONF_OUTPUT,
    CONF_ROOM_SENDSPIN_PLAYERS,
    OUTPUT_SENDSPIN,
)
from custom_components.open_music_box.library.covers import artist_picture
from custom_components.open_music_box.models import Track

from .conftest import ENTITY_ID, box_entry
from .helpers.player import playlist_id
from .helpers.rooms import ROOM_ENTITY, call, room_subentry, setup_room_entry, until
from .sendspin_player import SendspinTestPlayer, box_on_player, connect, write_steps

RED = (200, 30, 40)
SCREEN = ArtworkChannel(source=ArtworkSource.ALBUM, format=PictureFormat.JPEG, width=64, height=48)


@pytest.fixture
def player() -> SendspinTestPlayer:
    return SendspinTestPlayer(artwork=SCREEN)


def write_library(library: Path) -> Path:
    """Covered: a red cover.png by its track; Broken: a cover.jpg that is not one; Steps: none."""
    write_steps(library / "Covered" / "01 Covered.wav")
    Image.new("RGB", (300, 200), RED).save(library / "Covered" / "cover.png")
    write_steps(library / "Broken" / "01 Broken.wav")
    (library / "Broken" / "cover.jpg").write_bytes(b"not an image")
    write_steps(library / "Steps" / "01 Steps.wav")
    return library


async def play(hass: HomeAssistant, entry: MockConfigEntry, playlist: str, entity_id: str) -> None:
    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, playlist)}",
            "media_content_type": "music",
        },
        entity_id=entity_id,
    )


def assert_cover(image: bytes) -> None:
    """The red cover, letterboxed into the 64x48 JPEG the player asked for."""
    with Image.open(BytesIO(image)) as shown:
        assert (shown.format, shown.size) == ("JPEG", (64, 48))
        pixel = shown.convert("RGB").getpixel((32, 24))
    assert isinstance(pixel, tuple)
    assert all(abs(got - want) < 12 for got, want in zip(pixel, RED, strict=True)), pixel


async def shows_covers(
    hass: HomeAssistant, entry: MockConfigEntry, player: SendspinTestPlayer, entity_id: str
) -> None:
    """The cover of what plays ("Covered" already asked for), cleared without one, back again."""
    await until(lambda: any(player.images))
    assert_cover(player.images[-1])

    await play(hass, entry, "Steps", entity_id)
    await until(lambda: player.images[-1] == b"")

    await play(hass, entry, "Covered", entity_id)
    await until(lambda: player.images[-1] != b"")
    assert_cover(player.images[-1])


async def test_room_member_shows_the_cover(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    tmp_path: Path,
    player: SendspinTestPlayer,
) -> None:
    """A player joining a room that plays a covered track gets the cover; no cover clears it."""
    subentry = room_subentry(local=[("null", 0.0)])
    subentry["data"] = {
        **subentry["data"],
        CONF_ROOM_SENDSPIN_PLAYERS: [{CONF_CLIENT_ID: player.client_id, CONF_OFFSET_MS: 0.0}],
    }
    entry = await setup_room_entry(hass, write_library(tmp_path / "library"), subentry)
    try:
        await play(hass, entry, "Covered", ROOM_ENTITY)
        await connect(hass_client, entry, player, hass_access_token)  # joins while it plays
        await shows_covers(hass, entry, player, ROOM_ENTITY)
    finally:
        await player.disconnect()
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def sendspin_box(
    hass: HomeAssistant, tmp_path: Path, player: SendspinTestPlayer
) -> AsyncGenerator[MockConfigEntry]:
    async with box_on_player(hass, write_library(tmp_path / "library"), player) as entry:
        yield entry


async def test_box_output_shows_the_cover(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """The box's Sendspin player shows the cover of what the box plays, none without one."""
    entry = sendspin_box
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: hass.states.get(ENTITY_ID).state != "unavailable")  # type: ignore[union-attr]

    await play(hass, entry, "Covered", ENTITY_ID)
    await shows_covers(hass, entry, player, ENTITY_ID)
    await play(hass, entry, "Broken", ENTITY_ID)  # a cover that does not decode: none shown
    await until(lambda: player.images[-1] == b"")
    assert hass.states.get(ENTITY_ID).attributes["media_title"] == "01 Broken"  # type: ignore[union-attr]


BLUE = (30, 40, 200)
ARTIST = ArtworkChannel(source=ArtworkSource.ARTIST, format=PictureFormat.PNG, width=40, height=40)


GREEN = (20, 180, 60)


def artist_colour(image: bytes) -> Any:
    """The centre of an artist picture, letterboxed into the 40x40 PNG the player asked for."""
    with Image.open(BytesIO(image)) as shown:
        assert (shown.format, shown.size) == ("PNG", (40, 40))
        rgb = shown.convert("RGB")
        assert rgb.getpixel((1, 20)) == (0, 0, 0)  # portrait: padded, not cropped
        return rgb.getpixel((20, 20))


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    with BytesIO() as out:
        Image.new("RGB", size, colour).save(out, "PNG")
        return out.getvalue()


async def test_artist_channel_shows_the_artist_picture(
    hass: HomeAssistant, hass_client: Any, hass_access_token: str, tmp_path: Path
) -> None:
    """A screen asking for the album and the artist channels gets the cover and artist.png.

    The artist's picture is found above the album's folder and kept across its albums; one
    embedded in the file comes first; a track without one clears the artist channel (never the
    cover instead).
    """
    library = tmp_path / "library"
    band = library / "Blue Band"
    write_steps(band / "First Album" / "01 First.wav")
    Image.new("RGB", (300, 200), RED).save(band / "First Album" / "cover.png")
    write_steps(band / "Second Album" / "01 Second.wav")
    Image.new("RGB", (120, 160), BLUE).save(band / "Artist.PNG")
    tagged = WAVE(write_steps(band / "Live" / "01 Live.wav"))
    tagged.add_tags()
    tagged.tags.add(
        APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=png((300, 200), RED))
    )
    tagged.tags.add(
        APIC(encoding=3, mime="image/png", type=8, desc="Band", data=png((30, 40), GREEN))
    )
    tagged.save()
    write_steps(library / "Covered" / "01 Covered.wav")
    Image.new("RGB", (300, 200), RED).save(library / "Covered" / "cover.png")
    player = SendspinTestPlayer(artwork_channels=[SCREEN, ARTIST])
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    entry = box_entry(library, {CONF_OUTPUT: OUTPUT_SENDSPIN, CONF_CLIENT_ID: player.client_id})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        await connect(hass_client, entry, player, hass_access_token)
        await until(lambda: hass.states.get(ENTITY_ID).state != "unavailable")  # type: ignore[union-attr]
        albums, artists = (player.channel_images.setdefault(n, []) for n in (0, 1))

        await play(hass, entry, "First Album", ENTITY_ID)
        await until(lambda: any(albums) and any(artists))
        assert_cover(albums[-1])
        assert artist_colour(artists[-1]) == BLUE

        await play(hass, entry, "Second Album", ENTITY_ID)  # the same artist, no cover
        await until(lambda: albums[-1] == b"")
        await until(lambda: len(artists) > 1)
        assert artist_colour(artists[-1]) == BLUE

        await play(hass, entry, "Live", ENTITY_ID)  # its own cover and artist picture
        await until(lambda: albums[-1] != b"" and artist_colour(artists[-1]) == GREEN)
        assert_cover(albums[-1])

        await play(hass, entry, "Covered", ENTITY_ID)  # a cover, no artist picture
        await until(lambda: albums[-1] != b"" and artists[-1] == b"")
        assert_cover(albums[-1])
    finally:
        await player.disconnect()
        await hass.config_entries.async_unload(entry.entry_id)


def test_artist_picture_is_the_nearest_within_the_library(tmp_path: Path) -> None:
    """From the track's folder up to the library's (included); never above it."""
    root = tmp_path / "library"
    album = root / "Band" / "Album"
    album.mkdir(parents=True)
    (tmp_path / "artist.jpg").write_bytes(b"above the library")
    outside = Track("o", str(tmp_path / "elsewhere" / "01.wav"), "Elsewhere")
    track = Track("t", str(album / "01.wav"), "Song")
    assert artist_picture(track, root) is None
    assert artist_picture(outside, root) is None
    (root / "artist.png").write_bytes(b"the library's")
    assert artist_picture(track, root) == (b"the library's", "image/png")
    (root / "Band" / "ARTIST.JPG").write_bytes(b"the band's")
    assert artist_picture(track, root) == (b"the band's", "image/jpeg")
    (album / "artist.jpeg").write_bytes(b"the album's")
    assert artist_picture(track, root) == (b"the album's", "image/jpeg")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "artist.jpg").write_bytes(b"its own")
    assert artist_picture(outside, root) == (b"its own", "image/jpeg")
    assert artist_picture(Track("u", "https://example.invalid/a.mp3", "URL"), root) is None
