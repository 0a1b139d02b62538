"""The children's fields of the box's options flow.

Floor, daily limit, bedtime, refusal sound, lock, readers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)
import voluptuous as vol

from .const import (
    CONF_BEDTIME_END,
    CONF_BEDTIME_MAX_VOLUME,
    CONF_BEDTIME_SCHEDULE,
    CONF_BEDTIME_SLEEP_MINUTES,
    CONF_BEDTIME_START,
    CONF_DAILY_LIMIT,
    CONF_LOCK,
    CONF_MIN_VOLUME,
    CONF_REFUSAL_SOUND,
    DEFAULT_BEDTIME_END,
    DEFAULT_BEDTIME_MAX_VOLUME,
    DEFAULT_BEDTIME_SCHEDULE,
    DEFAULT_BEDTIME_SLEEP_MINUTES,
    DEFAULT_BEDTIME_START,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_LOCK,
    DEFAULT_MIN_VOLUME,
    DEFAULT_REFUSAL_SOUND,
    MAX_DAILY_LIMIT,
    READER_BOX,
    READER_NONE,
    REFUSAL_CHIME,
    REFUSAL_NONE,
)
from .sleep_timer import MAX_MINUTES

# Optional fields: a caller that leaves them out keeps what was set.
CHILDREN_DEFAULTS: dict[str, Any] = {
    CONF_MIN_VOLUME: DEFAULT_MIN_VOLUME,
    CONF_DAILY_LIMIT: DEFAULT_DAILY_LIMIT,
    CONF_BEDTIME_SCHEDULE: DEFAULT_BEDTIME_SCHEDULE,
    CONF_BEDTIME_START: DEFAULT_BEDTIME_START,
    CONF_BEDTIME_END: DEFAULT_BEDTIME_END,
    CONF_BEDTIME_MAX_VOLUME: DEFAULT_BEDTIME_MAX_VOLUME,
    CONF_BEDTIME_SLEEP_MINUTES: DEFAULT_BEDTIME_SLEEP_MINUTES,
    CONF_REFUSAL_SOUND: DEFAULT_REFUSAL_SOUND,
    CONF_LOCK: DEFAULT_LOCK,
}
ASSIGN_KEY = "reader_assign"  # the selector's translations (strings.json: selector)
REFUSAL_KEY = "refusal_sound"
_WHOLE = (CONF_MIN_VOLUME, CONF_DAILY_LIMIT, CONF_BEDTIME_MAX_VOLUME, CONF_BEDTIME_SLEEP_MINUTES)


def children_options(user_input: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Return the children's options given, or else already set (numbers as whole numbers)."""
    options = {
        key: user_input[key] if key in user_input else current[key]
        for key in CHILDREN_DEFAULTS
        if key in user_input or key in current
    }
    for key in _WHOLE:
        if key in options:
            options[key] = int(options[key])
    return options


def _number(maximum: int, unit: str, mode: NumberSelectorMode) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(min=0, max=maximum, step=1, unit_of_measurement=unit, mode=mode)
    )


def children_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the children's fields, showing the current (or default) values."""

    def shown(key: str) -> dict[str, Any]:
        return {"suggested_value": values.get(key, CHILDREN_DEFAULTS[key])}

    slider, box = NumberSelectorMode.SLIDER, NumberSelectorMode.BOX
    selectors: dict[str, Any] = {
        CONF_MIN_VOLUME: _number(100, "%", slider),
        CONF_DAILY_LIMIT: _number(MAX_DAILY_LIMIT, "min", box),
        CONF_BEDTIME_SCHEDULE: BooleanSelector(),
        CONF_BEDTIME_START: TimeSelector(),
        CONF_BEDTIME_END: TimeSelector(),
        CONF_BEDTIME_MAX_VOLUME: _number(100, "%", slider),
        CONF_BEDTIME_SLEEP_MINUTES: _number(MAX_MINUTES, "min", box),
        CONF_REFUSAL_SOUND: SelectSelector(
            SelectSelectorConfig(
                options=[REFUSAL_CHIME, REFUSAL_NONE],
                translation_key=REFUSAL_KEY,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        CONF_LOCK: BooleanSelector(),
    }
    return {vol.Optional(key, description=shown(key)): sel for key, sel in selectors.items()}


def reader_schema(current: str, rooms: Mapping[str, str]) -> vol.Schema:
    """Return the form assigning one reader: to nothing, to the box, or to one of its rooms."""
    options = [
        SelectOptionDict(value=READER_NONE, label=READER_NONE),
        SelectOptionDict(value=READER_BOX, label=READER_BOX),
        *(SelectOptionDict(value=room_id, label=name) for room_id, name in rooms.items()),
    ]
    return vol.Schema(
        {
            vol.Required("assign", default=current): SelectSelector(
                SelectSelectorConfig(
                    options=options,
                    translation_key=ASSIGN_KEY,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )
