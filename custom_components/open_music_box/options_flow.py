"""The options flow of a music box: volumes, "previous", tags, imports, children; then readers.

The children's settings (floor, daily limit, bedtime, lock) are in the first form; then comes one
step per reader the box has heard, to assign it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .children.const import CONF_MIN_VOLUME, CONF_READERS, READER_NONE
from .children.options import children_fields, children_options, reader_schema
from .children.readers import assignments
from .const import (
    CONF_DEFAULT_VOLUME,
    CONF_IMPORT_MAX_MB,
    CONF_MAX_VOLUME,
    CONF_MEMBERS_PER_USER,
    CONF_PREVIOUS_RESTART_SECONDS,
    CONF_SAME_TAG_ACTION,
    CONF_UNKNOWN_TAG_NOTIFICATION,
    DEFAULT_IMPORT_MAX_MB,
    DEFAULT_MAX_VOLUME,
    DEFAULT_PREVIOUS_RESTART_SECONDS,
    DEFAULT_SAME_TAG_ACTION,
    DEFAULT_UNKNOWN_TAG_NOTIFICATION,
    DEFAULT_VOLUME,
    MAX_IMPORT_MAX_MB,
    MAX_MEMBERS_PER_USER,
    MAX_ROOM_MEMBERS,
    SAME_TAG_ACTIONS,
    SUBENTRY_ROOM,
)

DEFAULT_OPTIONS: dict[str, int] = {
    CONF_MAX_VOLUME: DEFAULT_MAX_VOLUME,
    CONF_DEFAULT_VOLUME: DEFAULT_VOLUME,
    CONF_PREVIOUS_RESTART_SECONDS: DEFAULT_PREVIOUS_RESTART_SECONDS,
}


class OpenMusicBoxOptionsFlow(OptionsFlow):
    """Volume cap, default volume and the "previous" behaviour.

    Not OptionsFlowWithReload: the entry's update listener applies new options to the
    running box, so changing the volume cap never interrupts what is playing (HA refuses
    OptionsFlowWithReload when an update listener exists).
    """

    _options: dict[str, Any]
    _readers: list[tuple[str, str]]  # (device id, name) still to assign

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {key: int(user_input[key]) for key in DEFAULT_OPTIONS}
            options.update(_optional_options(user_input, self.config_entry.options))
            options.update(children_options(user_input, self.config_entry.options))
            if options[CONF_DEFAULT_VOLUME] > options[CONF_MAX_VOLUME]:
                errors[CONF_DEFAULT_VOLUME] = "default_volume_above_max"
            elif options.get(CONF_MIN_VOLUME, 0) > options[CONF_MAX_VOLUME]:
                errors[CONF_MIN_VOLUME] = "min_volume_above_max"
            else:
                self._options = options
                return await self.async_step_reader()

        values = {**DEFAULT_OPTIONS, **self.config_entry.options, **(user_input or {})}
        schema = vol.Schema(
            {
                vol.Required(CONF_MAX_VOLUME, default=values[CONF_MAX_VOLUME]): _slider(100, "%"),
                vol.Required(CONF_DEFAULT_VOLUME, default=values[CONF_DEFAULT_VOLUME]): _slider(
                    100, "%"
                ),
                vol.Required(
                    CONF_PREVIOUS_RESTART_SECONDS, default=values[CONF_PREVIOUS_RESTART_SECONDS]
                ): _slider(60, "s"),
                **_tag_fields(values),
                **_import_fields(values),
                **_room_fields(values),
                **children_fields(values),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    async def async_step_reader(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Assign each reader the box has heard: to the box, to one of its rooms, or to none."""
        if not hasattr(self, "_readers"):
            box = getattr(self.config_entry, "runtime_data", None)
            self._readers = [] if box is None else box.readers.seen()
            self._options[CONF_READERS] = assignments(self.config_entry.options)
        assigned: dict[str, str] = self._options[CONF_READERS]
        if user_input is not None:
            device_id = self._readers.pop(0)[0]
            if user_input["assign"] == READER_NONE:
                assigned.pop(device_id, None)
            else:
                assigned[device_id] = user_input["assign"]
        if not self._readers:
            if not assigned:
                del self._options[CONF_READERS]
            return self.async_create_entry(data=self._options)
        device_id, name = self._readers[0]
        rooms = {
            subentry.subentry_id: subentry.title
            for subentry in self.config_entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_ROOM
        }
        return self.async_show_form(
            step_id="reader",
            data_schema=reader_schema(assigned.get(device_id, READER_NONE), rooms),
            description_placeholders={"reader": name},
        )


# Tag options (tags.py): optional fields, so a caller that leaves them out keeps what was set.
_TAG_DEFAULTS: dict[str, Any] = {
    CONF_SAME_TAG_ACTION: DEFAULT_SAME_TAG_ACTION,
    CONF_UNKNOWN_TAG_NOTIFICATION: DEFAULT_UNKNOWN_TAG_NOTIFICATION,
}


# Imports from a URL (importer.py) and rooms (sync/room_satellites.py): optional too; whole numbers.
_IMPORT_DEFAULTS: dict[str, Any] = {CONF_IMPORT_MAX_MB: DEFAULT_IMPORT_MAX_MB}
_ROOM_DEFAULTS: dict[str, Any] = {CONF_MEMBERS_PER_USER: MAX_MEMBERS_PER_USER}


def _optional_options(user_input: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Return the optional (tag, import, room) options given, or else already set."""
    options = {
        key: user_input[key] if key in user_input else current[key]
        for key in (*_TAG_DEFAULTS, *_IMPORT_DEFAULTS, *_ROOM_DEFAULTS)
        if key in user_input or key in current
    }
    for key in (*_IMPORT_DEFAULTS, *_ROOM_DEFAULTS):
        if key in options:
            options[key] = int(options[key])
    return options


def _import_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the import fields, showing the current (or default) values."""
    shown = {"suggested_value": values.get(CONF_IMPORT_MAX_MB, DEFAULT_IMPORT_MAX_MB)}
    return {
        vol.Optional(CONF_IMPORT_MAX_MB, description=shown): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=MAX_IMPORT_MAX_MB,
                step=1,
                unit_of_measurement="MB",
                mode=NumberSelectorMode.BOX,
            )
        ),
    }


def _room_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the rooms' field: members one non-admin user may join to a room."""
    shown = {"suggested_value": values.get(CONF_MEMBERS_PER_USER, MAX_MEMBERS_PER_USER)}
    return {
        vol.Optional(CONF_MEMBERS_PER_USER, description=shown): NumberSelector(
            NumberSelectorConfig(min=1, max=MAX_ROOM_MEMBERS, step=1, mode=NumberSelectorMode.BOX)
        ),
    }


def _tag_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the tag fields, showing the current (or default) values."""

    def shown(key: str) -> dict[str, Any]:
        return {"suggested_value": values.get(key, _TAG_DEFAULTS[key])}

    return {
        vol.Optional(CONF_SAME_TAG_ACTION, description=shown(CONF_SAME_TAG_ACTION)): SelectSelector(
            SelectSelectorConfig(
                options=list(SAME_TAG_ACTIONS),
                translation_key=CONF_SAME_TAG_ACTION,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(
            CONF_UNKNOWN_TAG_NOTIFICATION, description=shown(CONF_UNKNOWN_TAG_NOTIFICATION)
        ): BooleanSelector(),
    }


def _slider(maximum: int, unit: str) -> NumberSelector:
    """Return a 0..maximum slider with whole steps."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0, max=maximum, step=1, unit_of_measurement=unit, mode=NumberSelectorMode.SLIDER
        )
    )
