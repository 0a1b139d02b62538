"""`library/tracks`: every track with its path, the folder playlists' paths, the upload target.

Real HA core, real libmpv (ao=null), a generated library.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant

from .helpers.ws import (  # noqa: F401 (fixtures)
    ANIMALS,
    AUDIOBOOK,
    Client,
    admin,
    ids,
    reader,
)


async def test_lists_every_track_with_its_path(
    hass: HomeAssistant, admin: Client, ids: dict[str, str], library: Path
) -> None:
    hass.config.media_dirs = {"local": str(library.parent)}
    listed = await admin.ok("library/tracks")
    paths = {t["track_id"]: t["path"] for t in listed["tracks"]}
    assert paths == {
        ids["Dog"]: "Animals/01 Dog.wav",
        ids["Cat"]: "Animals/02 Cat.wav",
        ids["Cow"]: "Animals/03 Cow.wav",
        ids["Chapter 1"]: "Audiobook/Chapter 1.wav",
        ids["Chapter 2"]: "Audiobook/Chapter 2.wav",
    }
    dog = next(t for t in listed["tracks"] if t["track_id"] == ids["Dog"])
    assert dog == {
        "track_id": ids["Dog"],
        "title": "Dog",
        "artist": "Kids",
        "album": "Animals",
        "duration_ms": 1000,
        "path": "Animals/01 Dog.wav",
    }
    assert sorted(listed["folders"], key=lambda f: f["path"]) == [
        {"playlist_id": ANIMALS, "path": "Animals"},
        {"playlist_id": AUDIOBOOK, "path": "Audiobook"},
    ]
    # Home Assistant's media upload reaches the library through its local media folder.
    assert listed["upload_root"] == f"media-source://media_source/local/{library.name}"


async def test_no_upload_outside_the_media_folders(
    hass: HomeAssistant, reader: Client, library: Path, tmp_path: Path
) -> None:
    """A library outside every media folder has no upload target; any user may list it."""
    hass.config.media_dirs = {"local": str(tmp_path / "elsewhere")}
    listed = await reader.ok("library/tracks")
    assert len(listed["tracks"]) == 5
    assert listed["upload_root"] is None
    hass.config.media_dirs = {"media": str(library)}
    assert (await reader.ok("library/tracks"))["upload_root"] == "media-source://media_source/media"
