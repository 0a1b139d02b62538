"""The media browser looks like a music app: covers on the tiles, durations in the titles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from .audio import tiny_png
from .conftest import ENTITY_ID

FOLDER_JPG = b"\xff\xd8\xff\xe0 a folder cover"


async def browse(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, media_id: str | None = None
) -> dict[str, Any]:
    """Browse the box over the real WebSocket command."""
    client = await hass_ws_client(hass)
    message: dict[str, Any] = {"type": "media_player/browse_media", "entity_id": ENTITY_ID}
    if media_id is not None:
        message |= {"media_content_type": "playlist", "media_content_id": media_id}
    await client.send_json_auto_id(message)
    response = await client.receive_json()
    assert response["success"], response
    result: dict[str, Any] = response["result"]
    return result


def child(node: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Return the child whose title starts with `prefix`."""
    return next(item for item in node["children"] if item["title"].startswith(prefix))


async def fetch(hass_client: ClientSessionGenerator, url: str) -> tuple[bytes, str]:
    """Fetch a thumbnail through HA's media player proxy."""
    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200, await response.text()
    return await response.read(), response.content_type


async def test_tiles_have_covers_and_durations(
    hass: HomeAssistant,
    library: Path,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
) -> None:
    """A playlist shows its first cover (embedded or its folder's), tracks theirs; durations."""
    (library / "Audiobook" / "Folder.JPG").write_bytes(FOLDER_JPG)
    root = await browse(hass, hass_ws_client)
    animals = child(root, "Animals")
    assert animals["title"] == "Animals · 0:03"  # three tracks of one second
    assert child(root, "Audiobook")["title"] == "Audiobook · 0:40"
    # Through HA's media player proxy: the browser never reads the library folder.
    assert animals["thumbnail"].startswith(f"/api/media_player_proxy/{ENTITY_ID}/browse_media/")
    assert await fetch(hass_client, animals["thumbnail"]) == (tiny_png(), "image/png")
    book_cover = child(root, "Audiobook")["thumbnail"]
    assert await fetch(hass_client, book_cover) == (FOLDER_JPG, "image/jpeg")

    opened = await browse(hass, hass_ws_client, animals["media_content_id"])
    assert opened["thumbnail"] == animals["thumbnail"]
    titles = [item["title"] for item in opened["children"]]
    assert titles == ["Dog · 0:01", "Cat · 0:01", "Cow · 0:01"]
    dog, cat = child(opened, "Dog"), child(opened, "Cat")
    assert await fetch(hass_client, dog["thumbnail"]) == (tiny_png(), "image/png")
    assert cat["thumbnail"] is None  # no embedded picture and no image in its folder

    book = await browse(hass, hass_ws_client, child(root, "Audiobook")["media_content_id"])
    chapter = child(book, "Chapter 1")
    assert chapter["title"] == "Chapter 1 · 0:20"
    assert await fetch(hass_client, chapter["thumbnail"]) == (FOLDER_JPG, "image/jpeg")


async def test_proxy_refuses_unknown_ids(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
) -> None:
    """An id without a cover is a 500 from HA's proxy (no image), not a crash."""
    root = await browse(hass, hass_ws_client)
    url = child(root, "Animals")["thumbnail"].replace("/playlist:", "/playlist:nope")
    assert "nope" in url
    client = await hass_client()
    response = await client.get(url)
    assert response.status != 200
