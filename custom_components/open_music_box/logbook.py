"""Log book entries: a volume request the maximum limited, a daily limit reached, a tag refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .children.const import EVENT_LIMIT_REACHED, EVENT_TAG_REFUSED
from .const import DOMAIN
from .notices import EVENT_VOLUME_LIMITED


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe our events for the log book."""

    @callback
    def describe_volume_limited(event: Event) -> dict[str, Any]:
        entity_id = event.data["entity_id"]
        state = hass.states.get(entity_id)
        return {
            "name": state.name if state else entity_id,
            # Translated when it happened, in the server's language (the log book shows text).
            "message": event.data["message"],
            "entity_id": entity_id,
        }

    async_describe_event(DOMAIN, EVENT_VOLUME_LIMITED, describe_volume_limited)

    @callback
    def describe_box_event(event: Event) -> dict[str, Any]:
        entry = hass.config_entries.async_get_entry(event.data.get("entry_id", ""))
        return {
            "name": entry.title if entry else DOMAIN,
            "message": event.data.get("message", event.event_type),
        }

    async_describe_event(DOMAIN, EVENT_LIMIT_REACHED, describe_box_event)
    async_describe_event(DOMAIN, EVENT_TAG_REFUSED, describe_box_event)
