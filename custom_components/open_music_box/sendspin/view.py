"""The Sendspin server's WebSocket endpoint, on Home Assistant's own HTTP server.

No extra port: a player (a browser tab, an app given a URL) connects here with a Home Assistant
access token (Authorization header) or a signed path (authSig), as HA's own media URLs do.
"""

from __future__ import annotations

from aiohttp import web
from aiosendspin.server import SendspinServer
from homeassistant.components.http import HomeAssistantView
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from ..const import DOMAIN
from .server import VIEW_PATH


class SendspinView(HomeAssistantView):
    """Hand an authenticated WebSocket to the box's Sendspin server."""

    url = VIEW_PATH
    name = f"api:{DOMAIN}:sendspin"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the Sendspin view."""
        self.hass = hass

    async def get(self, request: web.Request, entry_id: str) -> web.StreamResponse:
        """Run the Sendspin connection until it ends."""
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise web.HTTPNotFound
        server: SendspinServer | None = entry.runtime_data.sendspin.server
        if server is None:
            raise web.HTTPNotFound
        return await server.on_client_connect(request)
