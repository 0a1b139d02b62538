"""The lock: on a locked box, people who are not administrators keep only the simple buttons.

A child with their own account (or a wall tablet) may play, pause, skip to the next or previous
track, stop and change the volume (within the box's limits) — not start another playlist, seek,
shuffle, repeat, clear the queue or set the sleep timer. Administrators and automations (no user)
are never limited.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..const import DOMAIN
from .const import CONF_LOCK, DEFAULT_LOCK

# Operations (api/operations.py commands) a locked box still takes from everyone.
ALLOWED_WHEN_LOCKED = frozenset(
    f"player/{name}"
    for name in ("play", "pause", "toggle", "stop", "next", "previous", "volume", "mute")
)


def locked(entry: ConfigEntry) -> bool:
    """Return True when the box's lock option is on (the box's config entry)."""
    return bool(entry.options.get(CONF_LOCK, DEFAULT_LOCK))


def check_lock(entry: ConfigEntry, command: str, admin: bool) -> None:
    """Raise the translated box_locked error for a command a locked box refuses this caller."""
    if admin or command in ALLOWED_WHEN_LOCKED or not locked(entry):
        return
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="box_locked",
        translation_placeholders={"name": entry.title},
    )


async def async_check_lock(
    hass: HomeAssistant, entry: ConfigEntry, context: Context | None, command: str
) -> None:
    """Check the lock for a call with a Home Assistant context (the media player's actions)."""
    if not locked(entry) or command in ALLOWED_WHEN_LOCKED:
        return
    user_id = context.user_id if context is not None else None
    user = await hass.auth.async_get_user(user_id) if user_id else None
    check_lock(entry, command, user_id is None or (user is not None and user.is_admin))
