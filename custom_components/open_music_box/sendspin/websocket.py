"""The command a browser (the card's "Listen here") uses to join as a Sendspin player.

A browser cannot put an access token on a WebSocket: it gets a path signed by Home Assistant for
its own login, valid for a minute (the signature is checked when the connection opens only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.websocket_api import ActiveConnection
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from ..api.runner import loaded_box
from ..api.validation import ID_SCHEMA
from ..api.websocket import admitted, passthrough, send_error, validator
from ..sync.websocket import find_room
from .listeners import async_join_room
from .server import VIEW_PATH

SIGNED_FOR = timedelta(minutes=1)

_validate = validator({"config_entry_id": ID_SCHEMA})


@websocket_api.websocket_command(passthrough("sendspin/listen_url"))
@callback
def ws_listen_url(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Return the box's Sendspin endpoint as a path signed for the caller (any user)."""
    if (valid := admitted(connection, msg, _validate)) is None:
        return
    try:
        box = loaded_box(hass, valid["config_entry_id"])
    except HomeAssistantError as err:
        send_error(connection, msg["id"], err)
        return
    path = VIEW_PATH.format(entry_id=box.entry.entry_id)
    signed = async_sign_path(hass, path, SIGNED_FOR, refresh_token_id=connection.refresh_token_id)
    connection.send_result(msg["id"], {"path": signed})


_validate_join = validator({"room_id": ID_SCHEMA, "client_id": ID_SCHEMA})


@websocket_api.websocket_command(passthrough("sendspin/join"))
@websocket_api.async_response
async def ws_join(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Make a connected Sendspin player (the caller's browser) a member of a room until it goes."""
    if (valid := admitted(connection, msg, _validate_join)) is None:
        return
    try:
        room = find_room(hass, valid["room_id"])
        user = connection.user
        member_id = await async_join_room(
            hass,
            room,
            valid["client_id"],
            None if user is None else user.id,
            user is not None and user.is_admin,
        )
    except HomeAssistantError as err:
        send_error(connection, msg["id"], err)
        return
    connection.send_result(msg["id"], {"member_id": member_id})


@callback
def async_register_sendspin_commands(hass: HomeAssistant) -> None:
    """Register the commands once (from async_setup)."""
    websocket_api.async_register_command(hass, ws_listen_url)
    websocket_api.async_register_command(hass, ws_join)
