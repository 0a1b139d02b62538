"""Every track of the library with its path, for the panel's track picker and its uploads.

Paths are relative to the library folder. `upload_root` is the media-source id of the library
folder in Home Assistant's local media (its media upload writes there and the folder watch sees
the new files), or None when the library is not inside one of `media_dirs`.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Any

from homeassistant.core import HomeAssistant

from ..events import track_dict
from ..library import folder_playlist_id, is_under, track_key
from .operation import Call

MEDIA_SOURCE_PREFIX = "media-source://media_source"


def _roots(hass: HomeAssistant, root: str) -> tuple[str, str | None]:
    """Return the real library root and its media-source id (in the executor: realpath stats)."""
    real_root = os.path.realpath(root)
    for source_dir_id, media_dir in hass.config.media_dirs.items():
        real_dir = os.path.realpath(media_dir)
        if is_under(real_root, real_dir):
            rel = PurePosixPath(os.path.relpath(real_root, real_dir).replace(os.sep, "/"))
            suffix = "" if str(rel) == "." else f"/{rel}"
            return real_root, f"{MEDIA_SOURCE_PREFIX}/{source_dir_id}{suffix}"
    return real_root, None


async def list_library(call: Call) -> dict[str, Any]:
    """List the library's tracks (with their relative path) and its folder playlists' paths."""
    hass, catalog = call.box.hass, call.box.catalog
    real_root, upload_root = await hass.async_add_executor_job(_roots, hass, str(catalog.root))
    if "media_source" not in hass.config.components:
        upload_root = None
    playlists = catalog.scan.playlists
    tracks: list[dict[str, Any]] = []
    folders: dict[str, str] = {}
    for track in catalog.scan.tracks.values():
        if track.is_url:
            continue
        path = track_key(track.path, real_root)  # a file outside the root keeps its real path
        tracks.append({**track_dict(track), "path": path})
        folder = PurePosixPath(path).parent.as_posix()
        folder = "" if folder == "." else folder
        if (playlist_id := folder_playlist_id(folder)) in playlists:
            folders[playlist_id] = folder
    return {
        "tracks": tracks,
        "folders": [{"playlist_id": pid, "path": path} for pid, path in folders.items()],
        "upload_root": upload_root,
    }
