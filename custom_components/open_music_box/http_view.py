"""Serve library tracks (and the refusal chime) to other media players, through HA's signed URLs."""

from __future__ import annotations

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .children.chime import CHIME_FILE, CHIME_URL_PATH
from .const import DOMAIN


class TrackMediaView(HomeAssistantView):
    """GET a track file by entry and track id; only tracks of a loaded box's library."""

    url = f"/api/{DOMAIN}/media/{{entry_id}}/{{track_id}}"
    name = f"api:{DOMAIN}:media"
    requires_auth = True  # a signed path (authSig) satisfies it, as for HA's own media

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the track media view."""
        self.hass = hass

    async def get(self, request: web.Request, entry_id: str, track_id: str) -> web.StreamResponse:
        """Stream the file (aiohttp's FileResponse handles ranges off the event loop)."""
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise web.HTTPNotFound
        track = entry.runtime_data.catalog.track(track_id)
        if track is None or track.is_url:
            raise web.HTTPNotFound
        return web.FileResponse(track.path)


class ChimeView(HomeAssistantView):
    """GET the refusal chime (a box playing through another media player chimes there)."""

    url = CHIME_URL_PATH
    name = f"api:{DOMAIN}:chime"
    requires_auth = True  # a signed path (authSig) satisfies it

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Send the file."""
        return web.FileResponse(CHIME_FILE)
