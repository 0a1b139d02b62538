"""The room subentry flow: start it, reconfigure a room, the answers of its form."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    ROOM_CONTROL_EVERYONE,
    SUBENTRY_ROOM,
)

Result = dict[str, Any]


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> Result:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ROOM), context={"source": SOURCE_USER}
    )
    return cast(Result, result)


async def _reconfigure(hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str) -> Result:
    result: Result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
    return result


def _room(
    name: str,
    *,
    control: str = ROOM_CONTROL_EVERYONE,
    users: list[str] | None = None,
    local: list[str] | None = None,
    entities: list[str] | None = None,
) -> dict[str, Any]:
    """Return the answers of the room form."""
    return {
        CONF_NAME: name,
        CONF_ROOM_CONTROL: control,
        CONF_ROOM_CONTROL_USERS: users or [],
        CONF_ROOM_LOCAL_DEVICES: local or [],
        CONF_ROOM_ENTITY_MEMBERS: entities or [],
    }


async def _configure(hass: HomeAssistant, result: Result, user_input: dict[str, Any]) -> Result:
    done = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()  # a new room reloads the box: let it finish
    return cast(Result, done)


def _fields(result: Result) -> dict[str, Any]:
    """Return the form's fields by name: (marker, selector)."""
    return {str(marker): (marker, value) for marker, value in result["data_schema"].schema.items()}


def _default(result: Result, field: str) -> Any:
    marker = _fields(result)[field][0]
    return marker.default()


def _suggested(result: Result, field: str) -> Any:
    marker = _fields(result)[field][0]
    return marker.description["suggested_value"]


def _selector_config(result: Result, field: str) -> dict[str, Any]:
    config: dict[str, Any] = _fields(result)[field][1].config
    return config


def _options(result: Result, field: str) -> dict[str, str]:
    return {o["value"]: o["label"] for o in _selector_config(result, field)["options"]}
