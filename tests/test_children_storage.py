"""The children's stored sections are validated on load: a damaged one is dropped alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import DOMAIN, STORAGE_VERSION
from custom_components.open_music_box.diagnostics import async_get_config_entry_diagnostics
from custom_components.open_music_box.library import folder_playlist_id
from custom_components.open_music_box.storage import storage_issue_id

from .children_helpers import box_of
from .conftest import box_entry

AUDIOBOOK = folder_playlist_id("Audiobook")
ENTRY_ID = "children0000000000000000000000"


def children_data() -> dict[str, Any]:
    """A file with the children's sections, one reader entry and the day's count damaged."""
    return {
        "playlists": {},
        "readers": {"good-reader": {"last_seen": 1.0}, "bad-reader": {"last_seen": "x"}},
        "bedtime_playlists": {AUDIOBOOK: True},
        "bedtime": {"active": True, "since": 1.0},
        "daily_limit": {
            "date": dt_util.now().date().isoformat(),
            "seconds": -5,
            "extra_minutes": 0,
            "reached": False,
        },
    }


async def test_damaged_childrens_sections(
    hass: HomeAssistant, library: Path, hass_storage: dict[str, Any]
) -> None:
    """The bad reader and the impossible count go; the rest stays; a repair issue says so."""
    hass_storage[f"{DOMAIN}.{ENTRY_ID}"] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "data": children_data(),
    }
    hass.config.allowlist_external_dirs = {str(library.parent)}
    base = box_entry(library)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Music Box",
        data=dict(base.data),
        options=dict(base.options),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    box = box_of(entry)
    assert list(box.store.data["readers"]) == ["good-reader"]
    assert box.bedtime.active
    assert box.daily_limit.listened_minutes() == 0
    issue = ir.async_get(hass).async_get_issue(DOMAIN, storage_issue_id(entry.entry_id))
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["lost"] == "readers: 1 of 2; daily_limit: all"

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)  # type: ignore[arg-type]
    children = diagnostics["children"]
    assert children["bedtime"]["active"] is True
    assert children["readers"] == {"seen": 1, "assigned": 0}
    assert children["daily_limit"]["reached"] is False
    assert children["locked"] is False
