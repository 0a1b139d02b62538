"""Running one operation of the table, whichever way it came in."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from ..box import MusicBox
from ..children.lock import check_lock
from ..const import DOMAIN
from ..storage import async_flush_config_entries
from .operations import Call, Kind, Operation
from .resolve import resolve_fields


def loaded_box(hass: HomeAssistant, entry_id: str) -> MusicBox:
    """Return the box of a loaded entry, or raise a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    box: MusicBox = entry.runtime_data
    return box


async def async_is_admin(hass: HomeAssistant, context: Context) -> bool:
    """Return True for an administrator, or for no user at all (automations, scripts)."""
    if not context.user_id:
        return True
    user = await hass.auth.async_get_user(context.user_id)
    return user is not None and user.is_admin


async def async_run(
    box: MusicBox, op: Operation, data: dict[str, Any], admin: bool
) -> dict[str, Any] | None:
    """Run the operation; an edit is on disk before the caller hears it was done."""
    if op.kind is Kind.CONTROL:
        check_lock(box.entry, op.command, admin)  # a locked box: the simple buttons only
    options = box.entry.options
    result = await op.handler(Call(box, resolve_fields(box, data), admin))
    if op.kind is Kind.EDIT:
        await box.store.async_flush()
        if box.entry.options is not options:  # the refusal sound, a reader's assignment
            await async_flush_config_entries(box.hass)
    return result
