"""The parents' panel and the children's card are registered with Home Assistant's frontend."""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, DATA_PANELS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.open_music_box.const import PANEL_URL_PATH

from .conftest import box_entry, build_library


async def test_panel_and_card_are_registered(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Path
) -> None:
    """An admin-only sidebar panel "Music Box" and the card's module, both served as files."""
    assert await async_setup_component(hass, "frontend", {})
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    for name in ("one", "two"):  # two boxes: one panel, one card
        config_entry = box_entry(build_library(tmp_path / name))
        config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    panel = hass.data[DATA_PANELS][PANEL_URL_PATH]
    assert panel.require_admin is True
    assert panel.sidebar_title == "Music Box"
    assert panel.sidebar_icon == "mdi:music-box"
    custom = panel.config["_panel_custom"]
    assert custom["name"] == "open-music-box-panel"
    card_urls = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if "card.js" in url]
    assert len(card_urls) == 1

    client = await hass_client_no_auth()
    for url in (custom["module_url"], card_urls[0]):
        response = await client.get(url)
        assert response.status == 200, url
        text = await response.text()
        assert "customElements" in text or "customElement" in text
    card = await (await client.get(card_urls[0])).text()
    assert "open-music-box-card" in card
    assert "customCards" in card
    panel_js = await (await client.get(custom["module_url"])).text()
    assert "open-music-box-panel" in panel_js


async def test_card_chunks_are_served_and_cached(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, tmp_path: Path
) -> None:
    """The card imports sendspin-js on demand: its chunk is served, with long caching."""
    assert await async_setup_component(hass, "frontend", {})
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    config_entry = box_entry(build_library(tmp_path / "one"))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    card_url = next(u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "card.js" in u)
    client = await hass_client_no_auth()
    response = await client.get(card_url)
    card = await response.text()
    assert "Cache-Control" not in response.headers  # its URL's digest names the version
    assert "webCodecsDecoder" not in card  # sendspin-js is not in the first download
    imported = re.findall(r'import\("\./(chunks/[\w-]+\.js)"\)', card)
    assert imported
    base = card_url.split("?")[0].rsplit("/", 1)[0]
    chunk = await client.get(f"{base}/{imported[0]}")
    assert chunk.status == 200
    assert chunk.headers["Cache-Control"].startswith("public, max-age=")
    assert "webCodecsDecoder" in await chunk.text()


async def test_no_frontend_no_panel(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Without Home Assistant's frontend (headless), the box works and nothing is registered."""
    assert entry.state is ConfigEntryState.LOADED
    assert "frontend" not in hass.config.components
    assert PANEL_URL_PATH not in hass.data.get(DATA_PANELS, {})
