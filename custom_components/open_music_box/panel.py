"""The parents' sidebar panel and the children's card: static files and registration.

Both bundles are built from /frontend (TypeScript + Lit) into ./frontend and committed, so HACS
installs them as they are. They are registered once per Home Assistant (from async_setup), not
per box: the panel and the card pick the box themselves. The card is a module (extra module URL)
that imports what it needs on demand (sendspin-js for "Listen here") from ./frontend/chunks:
files named by their content's hash, so browsers may keep them; the bundles' own URLs carry
their digest instead, and are checked again on each load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components import frontend, panel_custom
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN, PANEL_URL_PATH

FRONTEND_DIR = Path(__file__).parent / "frontend"
URL_BASE = f"/{DOMAIN}_frontend"
PANEL_ELEMENT = "open-music-box-panel"
PANEL_TITLE = "Music Box"
PANEL_ICON = "mdi:music-box"
PANEL_FILE = "panel.js"
CARD_FILE = "card.js"
CHUNKS = "chunks"
_REGISTERED = f"{DOMAIN}_frontend_registered"


def _versions() -> dict[str, str]:
    """Return a short digest of each bundle (blocking): browsers reload a changed bundle."""
    return {
        name: hashlib.sha256((FRONTEND_DIR / name).read_bytes()).hexdigest()[:12]
        for name in (PANEL_FILE, CARD_FILE)
    }


async def async_register_frontend(hass: HomeAssistant) -> None:
    """Serve the bundles, add the admin panel to the sidebar and load the card everywhere."""
    # Without the frontend (a headless set-up) there is no sidebar to add to.
    if hass.data.get(_REGISTERED) or "frontend" not in hass.config.components:
        return
    hass.data[_REGISTERED] = True
    versions = await hass.async_add_executor_job(_versions)
    await hass.http.async_register_static_paths(
        [
            StaticPathConfig(URL_BASE, str(FRONTEND_DIR), cache_headers=False),
            # The longer prefix answers first: chunks are cached for a month.
            StaticPathConfig(f"{URL_BASE}/{CHUNKS}", str(FRONTEND_DIR / CHUNKS)),
        ]
    )
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title=PANEL_TITLE,
        sidebar_icon=PANEL_ICON,
        module_url=f"{URL_BASE}/{PANEL_FILE}?v={versions[PANEL_FILE]}",
        require_admin=True,
        config={"domain": DOMAIN},
    )
    # A module script: its relative imports (the chunks) resolve next to it.
    frontend.add_extra_js_url(hass, f"{URL_BASE}/{CARD_FILE}?v={versions[CARD_FILE]}")
