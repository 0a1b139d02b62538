"""The one table of a box's operations: what both ways in (actions, WebSocket commands) offer.

Each operation has one field schema, one permission and one handler whose result is the same
dict for an action's response and a command's result (the command adds `seq`). The rule for
permissions: an EDIT (library, playlists, tags, imports, modes) is for administrators only;
reading and playback control are for every user, but SETTINGS (what only administrators set, such
as the tag readers) are read by administrators only. Automations and scripts (no user) may edit.
"""

from __future__ import annotations

from homeassistant.components.media_player import RepeatMode
from homeassistant.core import SupportsResponse
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..children.const import MAX_EXTRA_MINUTES, REFUSAL_CHIME, REFUSAL_NONE
from ..children.operations import (
    assign_reader,
    get_children,
    grant_extra_minutes,
    list_readers,
    set_bedtime_playlist,
    set_refusal_sound,
    set_room_bedtime,
)
from ..children.resume import PlaylistMode
from ..children.sleep_timer import MAX_MINUTES
from ..const import MAX_OFFSET_MS
from ..sync.room_members import (
    SECTIONS,
    room_add_member,
    room_candidates,
    room_remove_member,
    room_set_offset,
)
from ..tag_model import redact_tags
from ..tags import DEFAULT_ASSOCIATION_TIMEOUT
from . import handlers as h
from .library_listing import list_library
from .operation import Call, Kind, Operation, SchemaDict
from .resolve import ATTR_ROOM_ENTITY_ID
from .validation import ID_SCHEMA, IDS, NAME, PLAYLIST, POSITION, boolean, finite, integer, string

MAX_POSITION_MS = 24 * 3600 * 1000

__all__ = ["OPERATIONS", "Call", "Kind", "Operation", "redact_tags"]


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
# Rooms (sync/room_members.py): members are named by audio device names, longer than ids.
_ROOM: SchemaDict = {vol.Required("room_id"): ID_SCHEMA}
_MEMBER_ID = vol.All(string, vol.Length(min=1, max=255))
_MEMBER: SchemaDict = {**_ROOM, vol.Required("member_id"): _MEMBER_ID}
_OFFSET = vol.All(finite, vol.Range(min=-MAX_OFFSET_MS, max=MAX_OFFSET_MS))
_SET_OFFSET: SchemaDict = {**_MEMBER, vol.Required("offset_ms"): _OFFSET}
_ONLY, _OPTIONAL = SupportsResponse.ONLY, SupportsResponse.OPTIONAL
READ, CONTROL, EDIT, SETTINGS = Kind.READ, Kind.CONTROL, Kind.EDIT, Kind.SETTINGS

OPERATIONS: tuple[Operation, ...] = (
    *(
        Operation(f"player/{name}", None, CONTROL, {}, h.player_method(f"async_{name}"))
        for name in ("play", "pause", "toggle", "stop", "next", "previous")
    ),
    Operation(
        "player/seek",
        None,
        CONTROL,
        {vol.Required("position_ms"): vol.All(integer, vol.Range(min=0, max=MAX_POSITION_MS))},
        h.seek,
    ),
    Operation(
        "player/volume",
        None,
        CONTROL,
        {vol.Required("volume"): vol.All(finite, vol.Range(min=0, max=1))},
        h.set_volume,
    ),
    Operation("player/mute", None, CONTROL, {vol.Required("muted"): boolean}, h.set_mute),
    Operation("player/shuffle", None, CONTROL, {vol.Required("shuffle"): boolean}, h.set_shuffle),
    Operation(
        "player/repeat",
        None,
        CONTROL,
        {vol.Required("repeat"): vol.In([r.value for r in RepeatMode])},
        h.set_repeat,
    ),
    Operation(
        "player/play_playlist",
        None,
        CONTROL,
        {**_PLAYLIST, vol.Optional("start_track_id"): ID_SCHEMA},
        h.play_playlist,
    ),
    # The media player's `sleep_timer` action (an entity action) does this for automations.
    Operation(
        "player/sleep_timer",
        None,
        CONTROL,
        {vol.Required("minutes"): vol.All(integer, vol.Range(min=0, max=MAX_MINUTES))},
        h.set_sleep_timer,
    ),
    Operation("playlists/list", "list_playlists", READ, {}, h.list_playlists, _ONLY),
    Operation("playlists/get", "get_playlist", READ, _PLAYLIST, h.get_playlist, _ONLY),
    Operation(
        "playlists/create",
        "create_playlist",
        EDIT,
        {vol.Required("name"): NAME, vol.Optional("track_ids", default=list): IDS},
        h.create_playlist,
        _OPTIONAL,
    ),
    Operation(
        "playlists/rename",
        "rename_playlist",
        EDIT,
        {**_PLAYLIST, vol.Required("name"): NAME},
        h.rename_playlist,
    ),
    Operation("playlists/delete", "delete_playlist", EDIT, _PLAYLIST, h.delete_playlist),
    Operation(
        "playlists/add_tracks",
        "add_tracks",
        EDIT,
        {**_TRACKS, vol.Optional("position"): POSITION},
        h.add_tracks,
    ),
    Operation("playlists/remove_tracks", "remove_tracks", EDIT, _TRACKS, h.remove_tracks),
    Operation("playlists/reorder", "reorder_playlist", EDIT, _TRACKS, h.reorder_playlist),
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
        h.move_track,
    ),
    Operation(
        "playlists/set_mode",
        "set_playlist_mode",
        EDIT,
        {**_PLAYLIST, vol.Required("mode"): vol.In([mode.value for mode in PlaylistMode])},
        h.set_playlist_mode,
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
    Operation("children/get", None, READ, {}, get_children),
    Operation(
        "children/set_room_bedtime",
        None,
        EDIT,
        {
            vol.Required("room_id"): ID_SCHEMA,
            vol.Optional("active"): boolean,
            vol.Optional("start"): vol.All(string, cv.time),
            vol.Optional("end"): vol.All(string, cv.time),
        },
        set_room_bedtime,
    ),
    Operation(
        "children/set_refusal_sound",
        None,
        EDIT,
        {vol.Required("refusal_sound"): vol.In([REFUSAL_CHIME, REFUSAL_NONE])},
        set_refusal_sound,
    ),
    # Tag readers: assigned here as in the options flow (children/readers.py).
    Operation("children/readers", None, SETTINGS, {}, list_readers),
    Operation(
        "children/assign_reader",
        None,
        EDIT,
        {vol.Required("device_id"): ID_SCHEMA, vol.Required("assignment"): ID_SCHEMA},
        assign_reader,
    ),
    Operation("rescan", "rescan", EDIT, {}, h.rescan),
    Operation("tags/list", "list_tags", READ, {}, h.tags_list, _ONLY),
    Operation("library/tracks", None, READ, {}, list_library),  # the panel's track picker
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
        h.tags_link,
        _OPTIONAL,
    ),
    Operation("tags/unlink", "unlink_tag", EDIT, _TAG, h.tags_unlink),
    Operation(
        "tags/associate",
        "associate_tag",
        EDIT,
        {**_TAG_LINK, vol.Optional("timeout", default=DEFAULT_ASSOCIATION_TIMEOUT): integer},
        h.tags_associate,
        _OPTIONAL,
    ),
    Operation("tags/override", "override_tag", EDIT, {}, h.tags_override, _OPTIONAL),
    Operation("tags/cancel", "cancel_association", EDIT, {}, h.tags_cancel, _OPTIONAL),
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
        h.imports_start,
        _OPTIONAL,
    ),
    Operation(
        "imports/cancel",
        "cancel_import",
        EDIT,
        {vol.Required("job_id"): ID_SCHEMA},
        h.imports_cancel,
        _OPTIONAL,
    ),
    Operation("imports/list", "list_imports", READ, {}, h.imports_list, _ONLY),
    Operation("rooms/candidates", None, READ, _ROOM, room_candidates),
    Operation(
        "rooms/add_member",
        None,
        EDIT,
        {
            **_ROOM,
            vol.Required("kind"): vol.In(list(SECTIONS)),
            vol.Required("member"): _MEMBER_ID,
            vol.Optional("offset_ms"): _OFFSET,
        },
        room_add_member,
    ),
    Operation("rooms/remove_member", None, EDIT, _MEMBER, room_remove_member),
    Operation("rooms/set_offset", None, EDIT, _SET_OFFSET, room_set_offset),
)

BY_COMMAND = {op.command: op for op in OPERATIONS}
BY_ACTION = {op.action: op for op in OPERATIONS if op.action is not None}
