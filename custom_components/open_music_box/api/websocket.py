"""Every operation of the table as a WebSocket command, and the live-state subscription.

Every command names its box by `entry_id`. Controls and edits may carry a `client_op_id`: a
repeat of the same command within 300 s returns the first result without acting twice; the same
id for another command is `op_id_conflict`. Results carry the `seq` of the last event the command
caused. Errors are `send_error` with a specific code and a translated message; the connection
always stays open. A refused or rate-limited command costs one reply and no log line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from functools import wraps
import time
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api import ActiveConnection
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import voluptuous as vol

from ..const import DOMAIN
from ..tag_model import redact_tags
from .operations import OPERATIONS, Kind, Operation
from .runner import async_run, loaded_box
from .validation import ID_SCHEMA, finite, integer

__all__ = ["ID_SCHEMA", "admitted", "finite", "integer", "passthrough", "send_error", "validator"]

RATE_LIMIT_PER_SECOND = 30

ERR_RATE_LIMITED = "rate_limited"
RATE_LIMIT_MESSAGE = f"Too many commands; at most {RATE_LIMIT_PER_SECOND} per second"
INVALID_INPUT = "invalid_input"
RATE_WINDOWS = f"{DOMAIN}_rate_windows"  # hass.data: command times per open connection

SchemaDict = dict[str | vol.Marker, Any]
CommandHandler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Awaitable[None]]

_BASE: SchemaDict = {vol.Required("entry_id"): ID_SCHEMA}
_DEDUPLICATED: SchemaDict = {**_BASE, vol.Optional("client_op_id"): ID_SCHEMA}


def rate_limited(connection: ActiveConnection) -> bool:
    """Allow RATE_LIMIT_PER_SECOND commands in any one-second window per connection."""
    windows: dict[int, deque[float]] = connection.hass.data.setdefault(RATE_WINDOWS, {})
    key = id(connection)
    if (window := windows.get(key)) is None:
        window = windows[key] = deque()
        # HA calls the connection's subscriptions when it closes: the window goes with it.
        connection.subscriptions[RATE_WINDOWS] = lambda: windows.pop(key, None)
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


def translated_errors(func: CommandHandler) -> CommandHandler:
    """Answer a HomeAssistantError with its translation key as the code (and log nothing)."""

    @wraps(func)
    async def wrapper(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        try:
            await func(hass, connection, msg)
        except HomeAssistantError as err:
            send_error(connection, msg["id"], err)

    return wrapper


def validator(schema: SchemaDict) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Validate a message ourselves, so malformed input gets a translated error too."""
    checked = vol.Schema({vol.Required("id"): int, vol.Required("type"): str, **schema})

    def validate(msg: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = checked(msg)
        except vol.Invalid as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=INVALID_INPUT,
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
        # Malformed: invalid_format; a field with its own error (a name) keeps its code.
        code = websocket_api.ERR_INVALID_FORMAT if err.translation_key == INVALID_INPUT else None
        send_error(connection, msg["id"], err, code)
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


def is_admin(connection: ActiveConnection) -> bool:
    """Return True when the connection's user is an administrator."""
    return connection.user is not None and connection.user.is_admin


def refuse(connection: ActiveConnection, msg_id: int) -> None:
    """Answer `unauthorized` (translated) without raising.

    HA's `require_admin` raises Unauthorized, which its connection logs at ERROR level for every
    refused message; a non-admin client (or a flood of them) must not fill the log.
    """
    err = HomeAssistantError(translation_domain=DOMAIN, translation_key="admin_only")
    send_error(connection, msg_id, err, websocket_api.ERR_UNAUTHORIZED)


def _command(op: Operation) -> websocket_api.const.WebSocketCommandHandler:
    """Build one command: permission, rate limit, entry, de-duplication, result with seq."""
    plain = op.kind in (Kind.READ, Kind.SETTINGS)  # reads: no client_op_id
    validate = validator({**(_BASE if plain else _DEDUPLICATED), **op.fields})

    @websocket_api.websocket_command(passthrough(op.command))
    @websocket_api.async_response
    @translated_errors
    async def handler(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        admin = is_admin(connection)
        if op.admin_only and not admin:
            refuse(connection, msg["id"])  # before the rate limit and the fields: cheap
            return
        if (valid := admitted(connection, msg, validate)) is None:
            return
        box = loaded_box(hass, valid.pop("entry_id"))
        msg_id, op_id = valid.pop("id"), valid.pop("client_op_id", None)
        del valid["type"]

        async def run() -> dict[str, Any]:
            return {**(await async_run(box, op, valid, admin) or {}), "seq": box.events.seq}

        if op_id is None:
            result = await run()
        else:
            user = connection.user.id if connection.user else ""
            result = await box.events.ops.run(user, op_id, op.command, run)
        connection.send_result(msg_id, result)

    return handler


# Subscription -----------------------------------------------------------------


_validate_subscribe = validator(
    {**_BASE, vol.Optional("since_seq"): vol.All(integer, vol.Range(min=0))}
)
_TAG_EVENTS = frozenset({"snapshot", "tags", "tag_association"})


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
    admin = is_admin(connection)

    @callback
    def send(envelope: dict[str, Any]) -> None:
        if not admin and envelope["type"] in _TAG_EVENTS:
            envelope = {**envelope, "data": redact_tags(envelope["data"])}
        # Queued per connection by HA: a subscriber that stops reading does not slow the others.
        connection.send_message(websocket_api.event_message(msg_id, envelope))

    @callback
    def close() -> None:
        # The box was unloaded: the subscription ends; the client subscribes again later.
        connection.subscriptions.pop(msg_id, None)
        connection.send_message(websocket_api.event_message(msg_id, {"type": "closed"}))

    connection.send_result(msg_id, {"seq": box.events.seq})
    connection.subscriptions[msg_id] = box.events.subscribe(send, msg.get("since_seq"), close)


@callback
def async_register_commands(hass: HomeAssistant) -> None:
    """Register the subscription and every operation's command once (from async_setup)."""
    websocket_api.async_register_command(hass, ws_subscribe)
    for op in OPERATIONS:
        websocket_api.async_register_command(hass, _command(op))
