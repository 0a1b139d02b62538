"""Tracks that are not in the library: media-source items and http(s) URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components import media_source
from homeassistant.components.media_player import async_process_play_media_url
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from ..const import DOMAIN
from ..models import Track


async def resolve_media_source(hass: HomeAssistant, media_id: str, entity_id: str | None) -> Track:
    """Turn a media-source id into a track: a local file mpv plays directly, or a URL."""
    try:
        item = await media_source.async_resolve_media(hass, media_id, entity_id)
    except HomeAssistantError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_media",
            translation_placeholders={"media_id": media_id},
        ) from err
    if item.path is not None:  # a local file: mpv plays it directly
        if not await hass.async_add_executor_job(item.path.is_file):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="file_not_found",
                translation_placeholders={"path": str(item.path)},
            )
        return Track(id=url_id(str(item.path)), path=str(item.path), title=item.path.stem)
    url = async_process_play_media_url(hass, item.url)
    return url_track(url, title=Path(item.url.split("?")[0]).stem)


def url_id(path: str) -> str:
    """Return a stable track id for a file or URL outside the library."""
    return "x" + hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:16]


def url_track(url: str, title: str | None = None) -> Track:
    """Return a track that plays a URL."""
    return Track(id=url_id(url), path=url, title=title or url)
