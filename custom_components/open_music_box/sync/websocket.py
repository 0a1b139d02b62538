"""The WebSocket commands of remote satellites: clock samples, join, ready, report, leave.

Any authenticated user may join a room as a listening member; each member answers only to the
user that created it, and the room's controllers (or an admin) may remove it. Bad input gets
`invalid_format` with a translated message, a wrong room or member a translated error; the
connection and the room always carry on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api import ActiveConnection
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import voluptuous as vol

from ..api.websocket import (
    ID_SCHEMA,
    admitted,
    finite,
    integer,
    passthrough,
    send_error,
    validator,
)
from ..const import DOMAIN, MAX_OFFSET_MS
from .protocol import COMPATIBLE, PROTOCOL
from .room import Room
from .room_satellites import room_error
from .satellite_member import Report, SatelliteMember
from .timeline import server_time

MAX_POSITION_SECONDS = 86400.0
MAX_CLOCK_OFFSET_SECONDS = 1e10  # monotonic clocks of two machines differ by their uptimes
DEFAULT_SATELLITE_NAME = "Satellite"

# The members each open connection has joined: its clock samples show they are alive (a paused
# room gets no reports, and a satellite that keeps sampling the clock is not a zombie).
_joined: dict[int, set[SatelliteMember]] = {}

_ROOM = {vol.Required("room_id"): ID_SCHEMA}
_MEMBER = {**_ROOM, vol.Required("member_id"): ID_SCHEMA}
_GENERATION = vol.All(integer, vol.Range(min=0))


def _bounded(low: float, high: float) -> vol.All:
    return vol.All(finite, vol.Range(min=low, max=high))


def find_room(hass: HomeAssistant, room_id: str) -> Room:
    """Return the room with this id in any loaded box; raise room_not_found."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        room: Room | None = entry.runtime_data.rooms.get(room_id)
        if room is not None:
            return room
    raise room_error("room_not_found", room_id=room_id)


def _user_id(connection: ActiveConnection) -> str | None:
    return connection.user.id if connection.user else None


def _satellite(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> SatelliteMember:
    """Return the caller's own member of the room (someone else's is not found either)."""
    member = find_room(hass, msg["room_id"]).satellite(msg["member_id"])
    if member.user_id != _user_id(connection):
        raise room_error("member_not_found", member_id=msg["member_id"])
    return member


Handler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Awaitable[None]]


def _command(name: str, schema: dict[Any, Any], handler: Handler) -> Any:
    """Rate limit, validate, run; a HomeAssistantError becomes a translated error."""
    validate = validator(schema)

    @websocket_api.websocket_command(passthrough(name))
    @websocket_api.async_response
    async def command(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        if (valid := admitted(connection, msg, validate)) is None:
            return
        try:
            await handler(hass, connection, valid)
        except HomeAssistantError as err:
            send_error(connection, msg["id"], err)

    return command


_validate_time = validator({})


@websocket_api.websocket_command(passthrough("time"))
@callback
def ws_time(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """One clock sample: when the request arrived and when the answer left (server time).

    A plain callback, not a task: nothing runs between the two stamps but the checks.
    """
    received = server_time()
    if admitted(connection, msg, _validate_time) is not None:
        connection.send_result(msg["id"], {"t2": received, "t3": server_time()})
        for member in _joined.get(id(connection), ()):
            member.seen()


async def _join(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    if (protocol := msg.get("protocol", PROTOCOL)) not in COMPATIBLE:
        raise room_error(
            "satellite_protocol",
            protocol=str(protocol),
            supported=", ".join(str(version) for version in sorted(COMPATIBLE)),
        )
    room = find_room(hass, msg["room_id"])
    msg_id = msg["id"]
    # Events raised while joining wait until the result has gone out (clients expect it first).
    pending: list[dict[str, Any]] | None = []

    @callback
    def send(event: dict[str, Any]) -> None:
        if pending is not None:
            pending.append(event)
        else:
            connection.send_message(websocket_api.event_message(msg_id, event))
        if event["type"] == "closed" and (end := connection.subscriptions.pop(msg_id, None)):
            end()  # the subscription is over: forget the member on this connection

    member, rejoined = await room.async_join_satellite(
        msg.get("member_id"),
        msg.get("name", DEFAULT_SATELLITE_NAME),
        msg.get("offset_ms", 0.0),
        _user_id(connection),
        send,
        admin=connection.user is not None and connection.user.is_admin,
    )

    joined = _joined.setdefault(id(connection), set())
    joined.add(member)

    @callback
    def closed() -> None:
        joined.discard(member)
        if not joined:
            _joined.pop(id(connection), None)
        room.satellite_disconnected(member, send)

    connection.subscriptions[msg_id] = closed
    connection.send_result(msg_id, {"member_id": member.member_id, "rejoined": rejoined})
    events, pending = pending or [], None
    for event in events:
        send(event)


async def _ready(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    member = _satellite(hass, connection, msg)
    connection.send_result(msg["id"], {"stale": not member.ready(msg["generation"])})


async def _report(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    member = _satellite(hass, connection, msg)
    report = Report(msg["generation"], msg["position"], msg["server_time"], msg["speed"])
    fresh = member.add_report(report, msg["clock_offset"], msg["clock_rtt"])
    connection.send_result(msg["id"], {"stale": not fresh})


async def _leave(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    _satellite(hass, connection, msg)
    await find_room(hass, msg["room_id"]).async_leave(msg["member_id"])
    connection.send_result(msg["id"], {})


async def _remove_member(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    room = find_room(hass, msg["room_id"])
    user = connection.user
    member = room.coordinator.members.get(msg["member_id"])
    own = isinstance(member, SatelliteMember) and member.user_id == _user_id(connection)
    if not (own or (user is not None and user.is_admin)):
        room.check_control(Context(user_id=_user_id(connection)), "member_remove_denied")
    await room.async_remove_member(msg["member_id"])
    connection.send_result(msg["id"], {})


COMMANDS = [
    ws_time,
    _command(
        "room/join",
        {
            **_ROOM,
            vol.Optional("member_id"): ID_SCHEMA,
            vol.Optional("name"): ID_SCHEMA,
            vol.Optional("offset_ms"): _bounded(-MAX_OFFSET_MS, MAX_OFFSET_MS),
            # Satellites before the protocol version existed speak version 1.
            vol.Optional("protocol"): vol.All(integer, vol.Range(min=0, max=1_000_000)),
        },
        _join,
    ),
    _command("room/ready", {**_MEMBER, vol.Required("generation"): _GENERATION}, _ready),
    _command(
        "room/report",
        {
            **_MEMBER,
            vol.Required("generation"): _GENERATION,
            vol.Required("position"): _bounded(0.0, MAX_POSITION_SECONDS),
            vol.Required("server_time"): _bounded(0.0, MAX_CLOCK_OFFSET_SECONDS),
            vol.Required("clock_offset"): _bounded(
                -MAX_CLOCK_OFFSET_SECONDS, MAX_CLOCK_OFFSET_SECONDS
            ),
            vol.Required("clock_rtt"): _bounded(0.0, 60.0),
            vol.Required("speed"): _bounded(0.5, 2.0),
        },
        _report,
    ),
    _command("room/leave", _MEMBER, _leave),
    _command("room/remove_member", _MEMBER, _remove_member),
]


@callback
def async_register_sync_commands(hass: HomeAssistant) -> None:
    """Register the satellites' commands once (from async_setup)."""
    for command in COMMANDS:
        websocket_api.async_register_command(hass, command)
