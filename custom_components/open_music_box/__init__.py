"""Open Music Box: a music box (and later sync rooms) for Home Assistant."""

from __future__ import annotations

import asyncio

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .api.actions import async_setup_actions
from .api.websocket import async_register_commands
from .box import MusicBox, OpenMusicBoxConfigEntry
from .const import DOMAIN, ISSUE_LIBMPV_MISSING
from .http_view import ChimeView, TrackMediaView
from .panel import async_register_frontend
from .playback.mpv_loader import LibmpvMissingError
from .playback.outputs.base import OutputError
from .sendspin.server import async_remove_sendspin_data
from .sendspin.view import SendspinView
from .sendspin.websocket import async_register_sendspin_commands
from .storage import BoxStore, async_flush_config_entries
from .sync.websocket import async_register_sync_commands

PLATFORMS = [
    Platform.MEDIA_PLAYER,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the media view, the panel and the card once."""
    async_setup_actions(hass)
    async_register_commands(hass)
    async_register_sync_commands(hass)
    hass.http.register_view(TrackMediaView(hass))
    hass.http.register_view(ChimeView())
    await async_register_frontend(hass)
    hass.http.register_view(SendspinView(hass))
    async_register_sendspin_commands(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OpenMusicBoxConfigEntry) -> bool:
    """Set up one box."""
    box = MusicBox(hass, entry)
    try:
        await box.async_setup()
    except LibmpvMissingError as err:
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_LIBMPV_MISSING,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_LIBMPV_MISSING,
            translation_placeholders={"name": entry.title},
        )
        await box.async_close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="libmpv_missing"
        ) from err
    except asyncio.CancelledError:
        # HA stopping during set-up (or a reload): no libmpv thread may outlive the entry.
        await box.async_close()
        raise
    except OutputError as err:
        await box.async_close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="output_failed",
            translation_placeholders={"detail": str(err)},
        ) from err
    ir.async_delete_issue(hass, DOMAIN, ISSUE_LIBMPV_MISSING)
    entry.runtime_data = box
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))

    async def _async_close_at_stop(_event: Event) -> None:
        # HA does not unload entries when it stops: release libmpv's threads ourselves.
        await box.async_close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_close_at_stop)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: OpenMusicBoxConfigEntry) -> None:
    """Apply new options and room changes without a reload; rooms added or removed reload."""
    await async_flush_config_entries(hass)  # a room added or removed is on disk at once
    if entry.runtime_data.rooms_changed():
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    await entry.runtime_data.async_apply_options()


async def async_unload_entry(hass: HomeAssistant, entry: OpenMusicBoxConfigEntry) -> bool:
    """Unload a box."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: OpenMusicBoxConfigEntry) -> None:
    """Delete the box's stored playlists with the entry."""
    await BoxStore(hass, entry.entry_id).async_remove()
    await async_remove_sendspin_data(hass, entry.entry_id)
