"""The handlers the operations table points at: thin glue from a call to the box's parts.

Each takes the validated call and returns the response dict (or None); errors are the parts'
own translated exceptions. (No docstrings: each is one line of glue, its row says what it does.)
"""
# ruff: noqa: D103

from __future__ import annotations

from typing import Any

from homeassistant.components.media_player import RepeatMode

from ..children.resume import PlaylistMode
from ..events import track_dict
from ..tag_model import redact_tags
from .operation import Call, Handler

# Player -----------------------------------------------------------------


def player_method(method: str) -> Handler:
    async def handler(call: Call) -> None:
        await getattr(call.box.player, method)()

    return handler


async def seek(call: Call) -> None:
    await call.box.player.async_seek(call.data["position_ms"] / 1000)


async def set_volume(call: Call) -> None:
    await call.box.player.async_set_volume(call.data["volume"])


async def set_mute(call: Call) -> None:
    await call.box.player.async_set_mute(call.data["muted"])


async def set_shuffle(call: Call) -> None:
    await call.box.player.async_set_shuffle(call.data["shuffle"])


async def set_repeat(call: Call) -> None:
    await call.box.player.async_set_repeat(RepeatMode(call.data["repeat"]))


async def play_playlist(call: Call) -> None:
    await call.box.async_play_playlist(call.data["playlist_id"], call.data.get("start_track_id"))


async def set_sleep_timer(call: Call) -> dict[str, Any]:
    await call.box.sleep_timer.async_set(call.data["minutes"])
    ends_at = call.box.sleep_timer.ends_at
    return {"ends_at": None if ends_at is None else ends_at.isoformat()}


# Playlists -----------------------------------------------------------------


async def list_playlists(call: Call) -> dict[str, Any]:
    return {"playlists": call.box.live.playlists_index()}


async def get_playlist(call: Call) -> dict[str, Any]:
    catalog = call.box.catalog
    playlist = catalog.require_playlist(call.data["playlist_id"])
    return {
        **call.box.live.summary(playlist),
        "playlist_seq": catalog.playlist_seq(playlist.id),
        "track_ids": list(playlist.track_ids),
        "tracks": [track_dict(t) for t in catalog.tracks_of(playlist)],
    }


async def create_playlist(call: Call) -> dict[str, Any]:
    playlist = call.box.catalog.create_playlist(call.data["name"], call.data["track_ids"])
    return call.box.live.summary(playlist)


async def rename_playlist(call: Call) -> None:
    call.box.catalog.rename_playlist(call.data["playlist_id"], call.data["name"])


async def delete_playlist(call: Call) -> None:
    call.box.catalog.delete_playlist(call.data["playlist_id"])


async def add_tracks(call: Call) -> None:
    data = call.data
    call.box.catalog.add_tracks(data["playlist_id"], data["track_ids"], data.get("position"))


async def remove_tracks(call: Call) -> None:
    call.box.catalog.remove_tracks(call.data["playlist_id"], call.data["track_ids"])


async def reorder_playlist(call: Call) -> None:
    call.box.catalog.reorder(call.data["playlist_id"], call.data["track_ids"])


async def move_track(call: Call) -> None:
    data = call.data
    call.box.catalog.move_track(
        data["source_playlist_id"],
        data["target_playlist_id"],
        data["track_id"],
        data.get("position"),
    )


async def set_playlist_mode(call: Call) -> dict[str, Any]:
    box, playlist_id = call.box, call.data["playlist_id"]
    box.set_playlist_mode(playlist_id, PlaylistMode(call.data["mode"]))
    return box.live.summary(box.catalog.require_playlist(playlist_id))


async def rescan(call: Call) -> None:
    await call.box.async_rescan()


# Tags (tags.py): ids are secrets, so others than administrators see digests -----------------


async def tags_list(call: Call) -> dict[str, Any]:
    result = {"tags": call.box.tags.list_links(), "session": call.box.tags.session}
    return result if call.admin else dict(redact_tags(result))


async def tags_link(call: Call) -> dict[str, Any]:
    data = call.data
    return call.box.tags.link(
        data["tag_id"],
        data["playlist_id"],
        data.get("start_track_id"),
        data.get("shuffle"),
        data.get("room_id"),
    )


async def tags_unlink(call: Call) -> None:
    call.box.tags.unlink(call.data["tag_id"])


async def tags_associate(call: Call) -> dict[str, Any]:
    data = call.data
    return call.box.tags.start_association(
        data["playlist_id"], data["timeout"], data.get("start_track_id"), data.get("shuffle")
    )


async def tags_override(call: Call) -> dict[str, Any]:
    return call.box.tags.override()


async def tags_cancel(call: Call) -> dict[str, Any]:
    return call.box.tags.cancel()


# Imports from a URL (importer.py) -----------------------------------------------------------


async def imports_start(call: Call) -> dict[str, Any]:
    data = call.data
    job = await call.box.importer.async_import(
        data["url"], data.get("playlist_name"), data.get("playlist_id")
    )
    return job.as_dict()


async def imports_cancel(call: Call) -> dict[str, Any]:
    return (await call.box.importer.async_cancel(call.data["job_id"])).as_dict()


async def imports_list(call: Call) -> dict[str, Any]:
    return {"jobs": call.box.importer.jobs()}
