"""The one table of a box's operations: what both ways in (actions, WebSocket commands) offer.

Each operation has one field schema, one permission and one handler whose result is the same
dict for an action's response and a command's result (the command adds `seq`). The rule for
permissions: an EDIT (library, playlists, tags, imports, modes) is for administrators only;
reading and playback control are for every user. Automations and scripts (no user) may edit.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.media_player import RepeatMode
from homeassistant.core import SupportsResponse
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..children.const import MAX_EXTRA_MINUTES
from ..children.operations import grant_extra_minutes, set_bedtime_playlist
from ..children.resume import PlaylistMode
from ..children.sleep_timer import MAX_MINUTES
from ..events import track_dict
from ..tag_model import redact_tags
from ..tags import DEFAULT_ASSOCIATION_TIMEOUT
from .library_listing import list_library
from .operation import Call, Handler, Kind, Operation, SchemaDict
from .resolve import ATTR_ROOM_ENTITY_ID
from .validation import ID_SCHEMA, IDS, NAME, PLAYLIST, POSITION, boolean, finite, integer, string

MAX_POSITION_MS = 24 * 3600 * 1000

__all__ = ["OPERATIONS", "Call", "Kind", "Operation", "redact_tags"]


# Player -----------------------------------------------------------------


def _simple(method: str) -> Handler:
    async def handler(call: Call) -> None:
        await getattr(call.box.player, method)()

    return handler


async def _seek(call: Call) -> None:
    await call.box.player.async_seek(call.data["position_ms"] / 1000)


async def _volume(call: Call) -> None:
    await call.box.player.async_set_volume(call.data["volume"])


async def _mute(call: Call) -> None:
    await call.box.player.async_set_mute(call.data["muted"])


async def _shuffle(call: Call) -> None:
    await call.box.player.async_set_shuffle(call.data["shuffle"])


async def _repeat(call: Call) -> None:
    await call.box.player.async_set_repeat(RepeatMode(call.data["repeat"]))


async def _play_playlist(call: Call) -> None:
    await call.box.async_play_playlist(call.data["playlist_id"], call.data.get("start_track_id"))


async def _sleep_timer(call: Call) -> dict[str, Any]:
    await call.box.sleep_timer.async_set(call.data["minutes"])
    ends_at = call.box.sleep_timer.ends_at
    return {"ends_at": None if ends_at is None else ends_at.isoformat()}


# Playlists -----------------------------------------------------------------


async def _list(call: Call) -> dict[str, Any]:
    return {"playlists": call.box.live.playlists_index()}


async def _get(call: Call) -> dict[str, Any]:
    catalog = call.box.catalog
    playlist = catalog.require_playlist(call.data["playlist_id"])
    return {
        **call.box.live.summary(playlist),
        "playlist_seq": catalog.playlist_seq(playlist.id),
        "track_ids": list(playlist.track_ids),
        "tracks": [track_dict(t) for t in catalog.tracks_of(playlist)],
    }


async def _create(call: Call) -> dict[str, Any]:
    playlist = call.box.catalog.create_playlist(call.data["name"], call.data["track_ids"])
    return call.box.live.summary(playlist)


async def _rename(call: Call) -> None:
    call.box.catalog.rename_playlist(call.data["playlist_id"], call.data["name"])


async def _delete(call: Call) -> None:
    call.box.catalog.delete_playlist(call.data["playlist_id"])


async def _add(call: Call) -> None:
    data = call.data
    call.box.catalog.add_tracks(data["playlist_id"], data["track_ids"], data.get("position"))


async def _remove(call: Call) -> None:
    call.box.catalog.remove_tracks(call.data["playlist_id"], call.data["track_ids"])


async def _reorder(call: Call) -> None:
    call.box.catalog.reorder(call.data["playlist_id"], call.data["track_ids"])


async def _move(call: Call) -> None:
    data = call.data
    call.box.catalog.move_track(
        data["source_playlist_id"],
        data["target_playlist_id"],
        data["track_id"],
        data.get("position"),
    )


async def _set_mode(call: Call) -> dict[str, Any]:
    box, playlist_id = call.box, call.data["playlist_id"]
    box.set_playlist_mode(playlist_id, PlaylistMode(call.data["mode"]))
    return box.live.summary(box.catalog.require_playlist(playlist_id))


async def _rescan(call: Call) -> None:
    await call.box.async_rescan()


# Tags (tags.py): ids are secrets, so others than administrators see digests -----------------


async def _tags_list(call: Call) -> dict[str, Any]:
    result = {"tags": call.box.tags.list_links(), "session": call.box.tags.session}
    return result if call.admin else dict(redact_tags(result))


async def _tags_link(call: Call) -> dict[str, Any]:
    data = call.data
    return call.box.tags.link(
        data["tag_id"],
        data["playlist_id"],
        data.get("start_track_id"),
        data.get("shuffle"),
        data.get("room_id"),
    )


async def _tags_unlink(call: Call) -> None:
    call.box.tags.unlink(call.data["tag_id"])


async def _tags_associate(call: Call) -> dict[str, Any]:
    data = call.data
    return call.box.tags.start_association(
        data["playlist_id"], data["timeout"], data.get("start_track_id"), data.get("shuffle")
    )


async def _tags_override(call: Call) -> dict[str, Any]:
    return call.box.tags.override()


async def _tags_cancel(call: Call) -> dict[str, Any]:
    return call.box.tags.cancel()


# Imports from a URL (importer.py) -----------------------------------------------------------


async def _imports_start(call: Call) -> dict[str, Any]:
    data = call.data
    job = await call.box.importer.async_import(
        data["url"], data.get("playlist_name"), data.get("playlist_id")
    )
    return job.as_dict()


async def _imports_cancel(call: Call) -> dict[str, Any]:
    return (await call.box.importer.async_cancel(call.data["job_id"])).as_dict()


async def _imports_list(call: Call) -> dict[str, Any]:
    return {"jobs": call.box.importer.jobs()}


# The table -----------------------------------------------------------------

# A playlist by id, `playlist:<id>`, media selector or name: api/resolve.py finds it.
_PLAYLIST: SchemaDict = {vol.Required("playlist_id"): PLAYLIST}
_TRACKS: SchemaDict = {**_PLAYLIST, vol.Required("track_ids"): IDS}
# Tag ids and timeouts are bounded by TagManager, with their own translated error codes.
_TAG: SchemaDict = {vol.Required("tag_id"): string}
_TAG_LINK: SchemaDict = {
    **_PLAYLIST,
    vol.Optional("start_track_id"): ID_SCHEMA,
    vol.Optional("shuffle"): boolean,
}
_ONLY, _OPTIONAL = SupportsResponse.ONLY, SupportsResponse.OPTIONAL
READ, CONTROL, EDIT = Kind.READ, Kind.CONTROL, Kind.EDIT

OPERATIONS: tuple[Operation, ...] = (
    *(
        Operation(f"player/{name}", None, CONTROL, {}, _simple(f"async_{name}"))
        for name in ("play", "pause", "toggle", "stop", "next", "previous")
    ),
    Operation(
        "player/seek",
        None,
        CONTROL,
        {vol.Required("position_ms"): vol.All(integer, vol.Range(min=0, max=MAX_POSITION_MS))},
        _seek,
    ),
    Operation(
        "player/volume",
        None,
        CONTROL,
        {vol.Required("volume"): vol.All(finite, vol.Range(min=0, max=1))},
        _volume,
    ),
    Operation("player/mute", None, CONTROL, {vol.Required("muted"): boolean}, _mute),
    Operation("player/shuffle", None, CONTROL, {vol.Required("shuffle"): boolean}, _shuffle),
    Operation(
        "player/repeat",
        None,
        CONTROL,
        {vol.Required("repeat"): vol.In([r.value for r in RepeatMode])},
        _repeat,
    ),
    Operation(
        "player/play_playlist",
        None,
        CONTROL,
        {**_PLAYLIST, vol.Optional("start_track_id"): ID_SCHEMA},
        _play_playlist,
    ),
    # The media player's `sleep_timer` action (an entity action) does this for automations.
    Operation(
        "player/sleep_timer",
        None,
        CONTROL,
        {vol.Required("minutes"): vol.All(integer, vol.Range(min=0, max=MAX_MINUTES))},
        _sleep_timer,
    ),
    Operation("playlists/list", "list_playlists", READ, {}, _list, _ONLY),
    Operation("playlists/get", "get_playlist", READ, _PLAYLIST, _get, _ONLY),
    Operation(
        "playlists/create",
        "create_playlist",
        EDIT,
        {vol.Required("name"): NAME, vol.Optional("track_ids", default=list): IDS},
        _create,
        _OPTIONAL,
    ),
    Operation(
        "playlists/rename",
        "rename_playlist",
        EDIT,
        {**_PLAYLIST, vol.Required("name"): NAME},
        _rename,
    ),
    Operation("playlists/delete", "delete_playlist", EDIT, _PLAYLIST, _delete),
    Operation(
        "playlists/add_tracks",
        "add_tracks",
        EDIT,
        {**_TRACKS, vol.Optional("position"): POSITION},
        _add,
    ),
    Operation("playlists/remove_tracks", "remove_tracks", EDIT, _TRACKS, _remove),
    Operation("playlists/reorder", "reorder_playlist", EDIT, _TRACKS, _reorder),
    Operation(
        "playlists/move_track",
        "move_track",
        EDIT,
        {
            vol.Required("source_playlist_id"): PLAYLIST,
            vol.Required("target_playlist_id"): PLAYLIST,
            vol.Required("track_id"): ID_SCHEMA,
            vol.Optional("position"): POSITION,
        },
        _move,
    ),
    Operation(
        "playlists/set_mode",
        "set_playlist_mode",
        EDIT,
        {**_PLAYLIST, vol.Required("mode"): vol.In([mode.value for mode in PlaylistMode])},
        _set_mode,
        _OPTIONAL,
    ),
    Operation(
        "playlists/set_bedtime",
        "set_bedtime_playlist",
        EDIT,
        {**_PLAYLIST, vol.Required("bedtime"): boolean},
        set_bedtime_playlist,
        _OPTIONAL,
    ),
    Operation(
        "children/grant_extra_minutes",
        "grant_extra_minutes",
        EDIT,
        {vol.Required("minutes"): vol.All(integer, vol.Range(min=0, max=MAX_EXTRA_MINUTES))},
        grant_extra_minutes,
        _OPTIONAL,
    ),
    Operation("rescan", "rescan", EDIT, {}, _rescan),
    Operation("library/tracks", None, READ, {}, list_library),  # the panel's track picker
    Operation("tags/list", "list_tags", READ, {}, _tags_list, _ONLY),
    Operation(
        "tags/link",
        "link_tag",
        EDIT,
        {
            **_TAG,
            **_TAG_LINK,
            vol.Optional("room_id"): ID_SCHEMA,
            vol.Optional(ATTR_ROOM_ENTITY_ID): vol.All(string, cv.entity_id),
        },
        _tags_link,
        _OPTIONAL,
    ),
    Operation("tags/unlink", "unlink_tag", EDIT, _TAG, _tags_unlink),
    Operation(
        "tags/associate",
        "associate_tag",
        EDIT,
        {**_TAG_LINK, vol.Optional("timeout", default=DEFAULT_ASSOCIATION_TIMEOUT): integer},
        _tags_associate,
        _OPTIONAL,
    ),
    Operation("tags/override", "override_tag", EDIT, {}, _tags_override, _OPTIONAL),
    Operation("tags/cancel", "cancel_association", EDIT, {}, _tags_cancel, _OPTIONAL),
    Operation(
        "imports/start",
        "import_url",
        EDIT,
        {
            # Scheme, host and length are checked by the importer (its own translated error).
            vol.Required("url"): string,
            vol.Optional("playlist_name"): NAME,
            vol.Optional("playlist_id"): PLAYLIST,
        },
        _imports_start,
        _OPTIONAL,
    ),
    Operation(
        "imports/cancel",
        "cancel_import",
        EDIT,
        {vol.Required("job_id"): ID_SCHEMA},
        _imports_cancel,
        _OPTIONAL,
    ),
    Operation("imports/list", "list_imports", READ, {}, _imports_list, _ONLY),
)

BY_COMMAND = {op.command: op for op in OPERATIONS}
BY_ACTION = {op.action: op for op in OPERATIONS if op.action is not None}
