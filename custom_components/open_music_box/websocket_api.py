"""Open Music Box over Home Assistant's WebSocket API: live-state subscription and commands.

Every command names its box by `entry_id`. Mutating commands may carry a `client_op_id`: a repeat
within 300 s returns the first result without acting twice. Results carry the `seq` of the last
event the command caused. Errors are `send_error` with a specific code and a translated message;
the connection always stays open.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
import math
import time
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api import ActiveConnection
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import voluptuous as vol

from .box import MusicBox
from .catalog import MAX_NAME_LENGTH
from .const import DOMAIN
from .hub import track_dict
from .import_job import MAX_URL_LENGTH
from .player import Repeat
from .resume import PlaylistMode
from .services import MAX_TRACKS_PER_CALL, loaded_box
from .sleep_timer import MAX_MINUTES
from .tags import DEFAULT_ASSOCIATION_TIMEOUT

RATE_LIMIT_PER_SECOND = 30
MAX_POSITION_MS = 24 * 3600 * 1000

ERR_RATE_LIMITED = "rate_limited"
RATE_LIMIT_MESSAGE = f"Too many commands; at most {RATE_LIMIT_PER_SECOND} per second"

SchemaDict = dict[str | vol.Marker, Any]

Action = Callable[[HomeAssistant, MusicBox, dict[str, Any]], Awaitable[dict[str, Any] | None]]


def integer(value: Any) -> int:
    """Accept a JSON integer only: voluptuous' `int` lets `true` through (bool is an int)."""
    if type(value) is not int:
        raise vol.Invalid("expected an integer")
    return value


def finite(value: Any) -> float:
    """Accept a finite JSON number only: not a bool, not a numeric string."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    return float(value)


ID_SCHEMA = vol.All(str, vol.Length(min=1, max=64))
_IDS = vol.All([ID_SCHEMA], vol.Length(max=MAX_TRACKS_PER_CALL))
_NAME = vol.All(str, vol.Length(min=1, max=MAX_NAME_LENGTH))
_INDEX = vol.All(integer, vol.Range(min=0, max=MAX_TRACKS_PER_CALL))
_BASE: SchemaDict = {vol.Required("entry_id"): ID_SCHEMA}
_MUTATING: SchemaDict = {**_BASE, vol.Optional("client_op_id"): ID_SCHEMA}

# Command times per open connection; HA calls connection.subscriptions' callables at close.
_rate_windows: dict[int, deque[float]] = {}
_RATE_WINDOW_KEY = f"{DOMAIN}_rate_window"


def rate_limited(connection: ActiveConnection) -> bool:
    """Allow RATE_LIMIT_PER_SECOND commands in any one-second window per connection."""
    key = id(connection)
    if (window := _rate_windows.get(key)) is None:
        window = _rate_windows[key] = deque()
        connection.subscriptions[_RATE_WINDOW_KEY] = lambda: _rate_windows.pop(key, None)
    now = time.monotonic()
    while window and now - window[0] >= 1.0:
        window.popleft()
    if len(window) >= RATE_LIMIT_PER_SECOND:
        return True
    window.append(now)
    return False


def send_error(
    connection: ActiveConnection, msg_id: int, err: HomeAssistantError, code: str | None = None
) -> None:
    """Send a translated error whose code is its translation key (unless given)."""
    connection.send_error(
        msg_id,
        code or err.translation_key or websocket_api.ERR_HOME_ASSISTANT_ERROR,
        str(err),
        translation_key=err.translation_key,
        translation_domain=err.translation_domain,
        translation_placeholders=err.translation_placeholders,
    )


def validator(schema: SchemaDict) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Validate a message ourselves, so malformed input gets a translated error too."""
    checked = vol.Schema({vol.Required("id"): int, vol.Required("type"): str, **schema})

    def validate(msg: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = checked(msg)
        except vol.Invalid as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_input",
                translation_placeholders={"details": vol.humanize.humanize_error(msg, err)},
            ) from err
        return result

    return validate


def checked(
    connection: ActiveConnection,
    msg: dict[str, Any],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """Return the validated message, or answer `invalid_format` and return None."""
    try:
        return validate(msg)
    except ServiceValidationError as err:
        send_error(connection, msg["id"], err, websocket_api.ERR_INVALID_FORMAT)
        return None


def admitted(
    connection: ActiveConnection,
    msg: dict[str, Any],
    validate: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """Return the validated message, or answer rate_limited / invalid_format and return None."""
    if rate_limited(connection):
        connection.send_error(msg["id"], ERR_RATE_LIMITED, RATE_LIMIT_MESSAGE)
        return None
    return checked(connection, msg, validate)


def passthrough(name: str) -> vol.All:
    """Let HA route the command but leave validation to `validator` (translated errors)."""
    return vol.All(vol.Schema({vol.Required("type"): f"{DOMAIN}/{name}"}, extra=vol.ALLOW_EXTRA))


def _command(
    name: str,
    schema: SchemaDict,
    action: Action,
    *,
    admin: bool = False,
    mutating: bool = True,
) -> websocket_api.const.WebSocketCommandHandler:
    """Build one command: entry lookup, rate limit, de-duplication, errors, result with seq."""
    validate = validator({**(_MUTATING if mutating else _BASE), **schema})

    @websocket_api.websocket_command(passthrough(name))
    @websocket_api.async_response
    async def handler(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        if (valid := admitted(connection, msg, validate)) is None:
            return
        msg = valid
        try:
            box = loaded_box(hass, msg["entry_id"])

            async def run() -> dict[str, Any]:
                result = await action(hass, box, msg) or {}
                await box.store.async_flush()  # acknowledged means durable (storage.py)
                return {**result, "seq": box.hub.seq}

            op_id = msg.get("client_op_id")
            if op_id is None:
                result = await run()
            else:
                user = connection.user.id if connection.user else ""
                result = await box.hub.ops.run((user, op_id), run)
        except HomeAssistantError as err:
            send_error(connection, msg["id"], err)
            return
        connection.send_result(msg["id"], result)

    return websocket_api.require_admin(handler) if admin else handler


# Subscription -----------------------------------------------------------------


_validate_subscribe = validator(
    {**_BASE, vol.Optional("since_seq"): vol.All(integer, vol.Range(min=0))}
)


@websocket_api.websocket_command(passthrough("subscribe"))
@callback
def ws_subscribe(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Replay from since_seq (or send a snapshot), then stream live events."""
    if (valid := checked(connection, msg, _validate_subscribe)) is None:
        return
    msg = valid
    try:
        box = loaded_box(hass, msg["entry_id"])
    except HomeAssistantError as err:
        send_error(connection, msg["id"], err)
        return
    msg_id = msg["id"]

    @callback
    def send(envelope: dict[str, Any]) -> None:
        # Queued per connection by HA: a subscriber that stops reading does not slow the others.
        connection.send_message(websocket_api.event_message(msg_id, envelope))

    @callback
    def close() -> None:
        # The box was unloaded: the subscription ends; the client subscribes again later.
        connection.subscriptions.pop(msg_id, None)
        connection.send_message(websocket_api.event_message(msg_id, {"type": "closed"}))

    connection.send_result(msg_id, {"seq": box.hub.seq})
    connection.subscriptions[msg_id] = box.hub.subscribe(send, msg.get("since_seq"), close)


# Player -----------------------------------------------------------------


def _simple(method: str) -> Action:
    async def action(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
        await getattr(box.player, method)()

    return action


async def _seek(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.player.async_seek(msg["position_ms"] / 1000)


async def _volume(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.player.async_set_volume(msg["volume"])


async def _mute(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.player.async_set_mute(msg["muted"])


async def _shuffle(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.player.async_set_shuffle(msg["shuffle"])


async def _repeat(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.player.async_set_repeat(Repeat(msg["repeat"]))


async def _play_playlist(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.async_play_playlist(msg["playlist_id"], msg.get("start_track_id"))


# Playlists -----------------------------------------------------------------


async def _list(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return {"playlists": box.hub.playlists_index()}


async def _get(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    catalog = box.catalog
    playlist = catalog.require_playlist(msg["playlist_id"])
    return {
        **box.hub.summary(playlist),
        "playlist_seq": catalog.playlist_seq(playlist.id),
        "track_ids": list(playlist.track_ids),
        "tracks": [track_dict(t) for t in catalog.tracks_of(playlist)],
    }


async def _create(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    playlist = box.catalog.create_playlist(msg["name"], msg.get("track_ids", []))
    return box.hub.summary(playlist)


async def _rename(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.rename_playlist(msg["playlist_id"], msg["name"])


async def _delete(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.delete_playlist(msg["playlist_id"])


async def _add(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.add_tracks(msg["playlist_id"], msg["track_ids"], msg.get("position"))


async def _remove(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.remove_tracks(msg["playlist_id"], msg["track_ids"])


async def _reorder(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.reorder(msg["playlist_id"], msg["track_ids"])


async def _move(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.catalog.move_track(
        msg["source_playlist_id"], msg["target_playlist_id"], msg["track_id"], msg.get("position")
    )


async def _rescan(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    await box.async_rescan()


_PLAYLIST: SchemaDict = {vol.Required("playlist_id"): ID_SCHEMA}

COMMANDS = [
    ws_subscribe,
    *(
        _command(f"player/{name}", {}, _simple(method))
        for name, method in (
            ("play", "async_play"),
            ("pause", "async_pause"),
            ("toggle", "async_toggle"),
            ("stop", "async_stop"),
            ("next", "async_next"),
            ("previous", "async_previous"),
        )
    ),
    _command(
        "player/seek",
        {vol.Required("position_ms"): vol.All(integer, vol.Range(min=0, max=MAX_POSITION_MS))},
        _seek,
    ),
    _command(
        "player/volume",
        {vol.Required("volume"): vol.All(finite, vol.Range(min=0, max=1))},
        _volume,
    ),
    _command("player/mute", {vol.Required("muted"): bool}, _mute),
    _command("player/shuffle", {vol.Required("shuffle"): bool}, _shuffle),
    _command("player/repeat", {vol.Required("repeat"): vol.In([r.value for r in Repeat])}, _repeat),
    _command(
        "player/play_playlist",
        {**_PLAYLIST, vol.Optional("start_track_id"): ID_SCHEMA},
        _play_playlist,
    ),
    _command("playlists/list", {}, _list, mutating=False),
    _command("playlists/get", _PLAYLIST, _get, mutating=False),
    _command(
        "playlists/create",
        {vol.Required("name"): _NAME, vol.Optional("track_ids"): _IDS},
        _create,
        admin=True,
    ),
    _command("playlists/rename", {**_PLAYLIST, vol.Required("name"): _NAME}, _rename, admin=True),
    _command("playlists/delete", _PLAYLIST, _delete, admin=True),
    _command(
        "playlists/add_tracks",
        {**_PLAYLIST, vol.Required("track_ids"): _IDS, vol.Optional("position"): _INDEX},
        _add,
        admin=True,
    ),
    _command(
        "playlists/remove_tracks",
        {**_PLAYLIST, vol.Required("track_ids"): _IDS},
        _remove,
        admin=True,
    ),
    _command(
        "playlists/reorder", {**_PLAYLIST, vol.Required("track_ids"): _IDS}, _reorder, admin=True
    ),
    _command(
        "playlists/move_track",
        {
            vol.Required("source_playlist_id"): ID_SCHEMA,
            vol.Required("target_playlist_id"): ID_SCHEMA,
            vol.Required("track_id"): ID_SCHEMA,
            vol.Optional("position"): _INDEX,
        },
        _move,
        admin=True,
    ),
    _command("rescan", {}, _rescan, admin=True),
]


# Tags (tags.py) -----------------------------------------------------------------


async def _tags_list(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return {"tags": box.tags.list_links(), "session": box.tags.session}


async def _tags_link(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return box.tags.link(
        msg["tag_id"],
        msg["playlist_id"],
        msg.get("start_track_id"),
        msg.get("shuffle"),
        msg.get("room_id"),
    )


async def _tags_unlink(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> None:
    box.tags.unlink(msg["tag_id"])


async def _tags_associate(
    hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]
) -> dict[str, Any]:
    return box.tags.start_association(
        msg["playlist_id"], msg["timeout"], msg.get("start_track_id"), msg.get("shuffle")
    )


async def _tags_override(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return box.tags.override()


async def _tags_cancel(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return box.tags.cancel()


# Tag ids and timeouts are bounded by TagManager, with their own translated error codes.
_TAG: SchemaDict = {vol.Required("tag_id"): str}
_TAG_LINK: SchemaDict = {
    **_PLAYLIST,
    vol.Optional("start_track_id"): ID_SCHEMA,
    vol.Optional("shuffle"): bool,
}

COMMANDS += [
    _command("tags/list", {}, _tags_list, mutating=False),
    _command(
        "tags/link",
        {**_TAG, **_TAG_LINK, vol.Optional("room_id"): ID_SCHEMA},
        _tags_link,
        admin=True,
    ),
    _command("tags/unlink", _TAG, _tags_unlink, admin=True),
    _command(
        "tags/associate",
        {**_TAG_LINK, vol.Optional("timeout", default=DEFAULT_ASSOCIATION_TIMEOUT): integer},
        _tags_associate,
        admin=True,
    ),
    _command("tags/override", {}, _tags_override, admin=True),
    _command("tags/cancel", {}, _tags_cancel, admin=True),
]


# Children's features: playlist modes (resume.py), sleep timer (sleep_timer.py) ----------------


async def _set_mode(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    box.set_playlist_mode(msg["playlist_id"], PlaylistMode(msg["mode"]))
    return box.hub.summary(box.catalog.require_playlist(msg["playlist_id"]))


async def _sleep_timer(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    await box.sleep_timer.async_set(msg["minutes"])
    ends_at = box.sleep_timer.ends_at
    return {"ends_at": None if ends_at is None else ends_at.isoformat()}


COMMANDS += [
    _command(
        "playlists/set_mode",
        {**_PLAYLIST, vol.Required("mode"): vol.In([mode.value for mode in PlaylistMode])},
        _set_mode,
        admin=True,
    ),
    _command(
        "player/sleep_timer",
        {vol.Required("minutes"): vol.All(integer, vol.Range(min=0, max=MAX_MINUTES))},
        _sleep_timer,
    ),
]


# Imports from a URL (importer.py) -----------------------------------------------------------------


async def _imports_start(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    job = await box.importer.async_import(
        msg["url"], msg.get("playlist_name"), msg.get("playlist_id")
    )
    return job.as_dict()


async def _imports_cancel(
    hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]
) -> dict[str, Any]:
    return (await box.importer.async_cancel(msg["job_id"])).as_dict()


async def _imports_list(hass: HomeAssistant, box: MusicBox, msg: dict[str, Any]) -> dict[str, Any]:
    return {"jobs": box.importer.jobs()}


COMMANDS += [
    _command(
        "imports/start",
        {
            vol.Required("url"): vol.All(str, vol.Length(min=1, max=MAX_URL_LENGTH)),
            vol.Optional("playlist_name"): _NAME,
            vol.Optional("playlist_id"): ID_SCHEMA,
        },
        _imports_start,
        admin=True,
    ),
    _command("imports/cancel", {vol.Required("job_id"): ID_SCHEMA}, _imports_cancel, admin=True),
    _command("imports/list", {}, _imports_list, mutating=False),
]


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    """Register every command once (from async_setup)."""
    for command in COMMANDS:
        websocket_api.async_register_command(hass, command)
