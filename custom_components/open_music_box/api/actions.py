"""Every operation of the table that has an action name, registered as an action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging

from homeassistant.components.media_player import DOMAIN as MP_DOMAIN
from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, callback
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.typing import VolDictType
import voluptuous as vol

from ..box import MusicBox
from ..children.lock import async_check_lock
from ..children.sleep_timer import MAX_MINUTES
from ..const import DOMAIN
from .operations import OPERATIONS, Operation
from .resolve import TARGET_KEYS, action_entry_id
from .runner import async_is_admin, async_run, loaded_box
from .validation import ID_SCHEMA

ATTR_MINUTES = "minutes"
_BOX_KEYS = frozenset({ATTR_CONFIG_ENTRY_ID, *TARGET_KEYS})


async def _sleep_timer(entity: Entity, call: ServiceCall) -> None:
    """Start, restart or (0 minutes) cancel the sleep timer of the entity's box."""
    entry = entity.platform.config_entry
    assert entry is not None  # entities of our platform always come from a config entry
    box: MusicBox = entry.runtime_data
    await async_check_lock(box.hass, box.entry, call.context, "player/sleep_timer")
    await box.sleep_timer.async_set(call.data[ATTR_MINUTES])


# Actions on the box's media_player (target: entity), not on a config entry.
ENTITY_SERVICES: dict[str, tuple[Callable[[Entity, ServiceCall], Awaitable[None]], VolDictType]] = {
    "sleep_timer": (
        _sleep_timer,
        {vol.Required(ATTR_MINUTES): vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_MINUTES))},
    ),
}


def action_schema(op: Operation) -> vol.Schema:
    """Return the schema of an operation's action: its box and the operation's fields.

    The box is the target (its media player: what a parent picks, and what the media selector
    then browses) or its config entry.
    """
    return vol.Schema(
        {vol.Optional(ATTR_CONFIG_ENTRY_ID): ID_SCHEMA, **cv.ENTITY_SERVICE_FIELDS, **op.fields}
    )


class _QuietRefusals(logging.Filter):
    """Drop the ERROR line HA's `call_service` command writes for each refused admin action.

    A non-admin flooding our admin actions over the WebSocket API must not fill the log (HA
    logs every HomeAssistantError of a service call, Unauthorized included); the caller still
    gets its error, and other domains' lines and our other errors are left alone.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (
            isinstance(args, tuple)
            and len(args) == 3
            and args[0] == DOMAIN
            and isinstance(args[2], Unauthorized)
        )


_QUIET_REFUSALS = _QuietRefusals()
# The logger HA's WebSocket connections write to (websocket_api/http.py).
_WS_CONNECTION_LOGGER = "homeassistant.components.websocket_api.http.connection"


@callback
def async_setup_actions(hass: HomeAssistant) -> None:
    """Register the actions once for the integration (not per entry)."""
    logger = logging.getLogger(_WS_CONNECTION_LOGGER)
    if _QUIET_REFUSALS not in logger.filters:
        logger.addFilter(_QUIET_REFUSALS)
    for name, (func, schema) in ENTITY_SERVICES.items():
        service.async_register_platform_entity_service(
            hass, DOMAIN, name, entity_domain=MP_DOMAIN, func=func, schema=schema
        )
    for op in OPERATIONS:
        if op.action is None:
            continue

        async def _action(call: ServiceCall, op: Operation = op) -> ServiceResponse:
            box = loaded_box(hass, action_entry_id(hass, call))
            data = {k: v for k, v in call.data.items() if k not in _BOX_KEYS}
            result = await async_run(box, op, data, await async_is_admin(hass, call.context))
            return result if call.return_response else None

        if op.admin_only:
            # HA checks the user before the handler runs; automations (no user) pass.
            service.async_register_admin_service(
                hass, DOMAIN, op.action, _action, action_schema(op), op.response
            )
        else:
            hass.services.async_register(
                DOMAIN, op.action, _action, schema=action_schema(op), supports_response=op.response
            )
