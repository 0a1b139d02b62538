"""Helpers of the children's tests: boxes on their own (or a shared) library, readers, scans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.box import MusicBox
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.tags import EVENT_TAG_SCANNED

from .conftest import box_entry


async def add_box(
    hass: HomeAssistant,
    library: Path,
    title: str,
    output: dict[str, str] | None = None,
    **options: Any,
) -> MockConfigEntry:
    """Load a box named `title` on `library` (several boxes may share one folder)."""
    allowed = set(hass.config.allowlist_external_dirs)
    hass.config.allowlist_external_dirs = {*allowed, str(library.parent)}
    base = box_entry(library, output, **options)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=title,
        data=dict(base.data),
        options=dict(base.options),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def box_of(entry: MockConfigEntry) -> MusicBox:
    """Return the box of a loaded entry."""
    box: MusicBox = entry.runtime_data
    return box


def reader(hass: HomeAssistant, name: str) -> str:
    """Register a tag reader (an ESPHome device, say) and return its device id."""
    owner = MockConfigEntry(domain="esphome", title=name)
    owner.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=owner.entry_id, identifiers={("esphome", name)}, name=name
    )
    return device.id


async def scan(hass: HomeAssistant, tag_id: str, device_id: str | None) -> None:
    """Scan a tag on a reader (HA's tag_scanned event), and wait for what it starts."""
    hass.bus.async_fire(EVENT_TAG_SCANNED, {"tag_id": tag_id, "device_id": device_id})
    await hass.async_block_till_done()


async def action(hass: HomeAssistant, entry: MockConfigEntry, service: str, **data: Any) -> Any:
    """Call one of our actions on a box, returning its response when it has one."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **data},
        blocking=True,
        return_response=service in {"grant_extra_minutes", "set_bedtime_playlist"},
    )


async def link(hass: HomeAssistant, entry: MockConfigEntry, tag_id: str, playlist_id: str) -> None:
    """Link a tag to a playlist on a box."""
    await action(hass, entry, "link_tag", tag_id=tag_id, playlist_id=playlist_id)


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change a box's options as the options flow does (applied live by the update listener)."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    await hass.async_block_till_done()
