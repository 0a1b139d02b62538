"""Telling the user why a request was not done as asked: the volume cap (log book, Assist)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation

from .const import DOMAIN

EVENT_VOLUME_LIMITED = f"{DOMAIN}_volume_limited"
# The entity attribute that shows the last requested volume was above the box's maximum.
ATTR_VOLUME_LIMITED = "volume_limited"
# The texts the log book and Assist give (strings.json: exceptions).
VOLUME_LIMITED_KEY = "volume_limited"
VOLUME_LIMITED_SPEECH_KEY = "volume_limited_speech"


async def async_translate(
    hass: HomeAssistant, key: str, language: str | None = None, **placeholders: str
) -> str:
    """Return one of our `exceptions` texts in a language (default: the server's)."""
    language = language or hass.config.language
    texts = await translation.async_get_translations(hass, language, "exceptions", [DOMAIN])
    text = texts.get(f"component.{DOMAIN}.exceptions.{key}.message", key)
    return text.format(**placeholders)


def percent(level: float) -> str:
    """Return a 0..1 volume as a whole percentage."""
    return str(round(level * 100))


async def async_volume_limited(
    hass: HomeAssistant, entity_id: str, requested: float, maximum: float
) -> None:
    """Put the refused part of a volume request in the log book (logbook.py describes it)."""
    message = await async_translate(
        hass, VOLUME_LIMITED_KEY, requested=percent(requested), max_volume=percent(maximum)
    )
    hass.bus.async_fire(
        EVENT_VOLUME_LIMITED,
        {
            "entity_id": entity_id,
            "requested": percent(requested),
            "max_volume": percent(maximum),
            "message": message,
        },
    )
