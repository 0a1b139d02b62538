"""Loading a box on a library, as after a restart."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry, library: Path) -> None:
    """Load a box on `library` in `hass`."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
