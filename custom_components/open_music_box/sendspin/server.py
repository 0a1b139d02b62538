"""One Sendspin server per box, reached through Home Assistant's own HTTP server.

Per box (not per Home Assistant): the server's identity, its pairings and its players belong to
the config entry, start and stop with it and are removed with it. The server opens no port of
its own: inbound players come through `SendspinView` (Home Assistant authentication), and
players the user added by URL or discovery are dialed out from here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from contextvars import ContextVar
from functools import partial
import logging
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosendspin.noise import (
    FileServerPairingStore,
    Identity,
    TrustedUnpairedClient,
    b64url_decode,
)
from aiosendspin.server import (
    ClientConnectedEvent,
    ClientDisconnectedEvent,
    SendspinClient,
    SendspinEvent,
    SendspinServer,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store

from ..const import CONF_CLIENT_ID, DOMAIN, SUBENTRY_SENDSPIN_PLAYER
from ..sync.timeline import server_time

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
ANNOUNCE_TIMEOUT_SECONDS = 10.0  # a player that never sends its first state is not announced
ANNOUNCE_POLL_SECONDS = 0.05
VIEW_PATH = f"/api/{DOMAIN}/sendspin/{{entry_id}}"
PUBLIC_KEY_BYTES = 32


class RoomClock:
    """The rooms' server clock in microseconds: Sendspin audio is stamped on the room timeline."""

    def now_us(self) -> int:
        """Return the server time of sync/timeline.py in microseconds."""
        return int(server_time() * 1_000_000)


class HomeAssistantPairingStore(FileServerPairingStore):
    """Pairings kept in .storage; unpaired players are trusted because every path here is vetted.

    Inbound connections pass Home Assistant's authentication before they reach the server, and
    outbound ones go only to players the user added. Paired players (pairing code) use their PSK.
    """

    async def trusted_unpaired(self, client_id: str) -> TrustedUnpairedClient | None:
        """Trust a Noise player that reached the server (see the class docstring).

        Only ids that are public keys: a browser's plain hello (another kind of id) is then
        admitted, while a plain hello claiming a key, i.e. a Noise player, is refused.
        """
        if (trusted := await super().trusted_unpaired(client_id)) is not None:
            return trusted
        return TrustedUnpairedClient(client_id) if _is_public_key(client_id) else None


# Set while an inbound connection (it passed Home Assistant's authentication) is handled.
_AUTHENTICATED_INBOUND: ContextVar[bool] = ContextVar("sendspin_inbound", default=False)


class HomeAssistantSendspinServer(SendspinServer):
    """A server that accepts unencrypted players on the authenticated endpoint only.

    Browsers (`@sendspin/sendspin-js`) speak no Noise: on Home Assistant's own HTTP(S), once
    Home Assistant has authenticated them, they may use the plain hello. Players the box
    dials must still run the Noise handshake.
    """

    @property
    def allow_unencrypted(self) -> bool:
        """Return True only inside the handling of an authenticated inbound connection."""
        return _AUTHENTICATED_INBOUND.get()

    async def on_client_connect(self, request: web.Request) -> web.StreamResponse:
        """Handle a connection that came through SendspinView (authenticated)."""
        token = _AUTHENTICATED_INBOUND.set(True)
        try:
            return await super().on_client_connect(request)
        finally:
            _AUTHENTICATED_INBOUND.reset(token)


class SendspinHub:
    """The box's Sendspin server and the players it knows."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Initialize the Sendspin hub."""
        self.hass = hass
        self.entry = entry
        self.server: SendspinServer | None = None
        self._store = _identity_store(hass, entry.entry_id)
        self._listeners: dict[str, list[Callable[[bool], None]]] = {}
        self._remove_listener: Callable[[], None] | None = None
        self._unsub_update: Callable[[], None] | None = None
        self._dialed: dict[str, str] = {}  # client id -> URL of the players added to the box

    async def async_start(self) -> None:
        """Load (or create) the identity and pairings, start the server, dial known players."""
        data = await self._store.async_load() or {}
        identity_b64 = data.get("identity")
        if isinstance(identity_b64, str):
            identity = Identity.from_private_bytes(b64url_decode(identity_b64))
        else:
            identity = Identity.generate()
            await self._store.async_save({"identity": identity.private_b64u})
        pairing_store = await HomeAssistantPairingStore.open(
            _pairings_path(self.hass, self.entry.entry_id)
        )
        self.server = HomeAssistantSendspinServer(
            self.hass.loop,
            identity,
            self.entry.title,
            async_get_clientsession(self.hass),
            pairing_store=pairing_store,
            clock=RoomClock(),
        )
        self._remove_listener = self.server.add_event_listener(self._on_event)
        self._unsub_update = self.entry.add_update_listener(self._async_entry_updated)
        await self._async_entry_updated(self.hass, self.entry)

    def configured(self) -> dict[str, tuple[str, str]]:
        """Return the players added to the box (subentries): client id -> (name, url)."""
        return {
            subentry.data[CONF_CLIENT_ID]: (subentry.title, subentry.data[CONF_URL])
            for subentry in self.entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_SENDSPIN_PLAYER
        }

    async def _async_entry_updated(self, _hass: HomeAssistant, _entry: ConfigEntry) -> None:
        """Dial the players added to the box; forget (unpair) the ones removed."""
        if (server := self.server) is None:
            return
        configured = self.configured()
        for client_id, (_name, url) in configured.items():
            if client_id not in self._dialed:
                self._dialed[client_id] = url
                server.connect_to_client(url, retry_initial_connection=True)
        for client_id in set(self._dialed) - set(configured):
            server.disconnect_from_client(self._dialed.pop(client_id))
            with contextlib.suppress(ValueError, KeyError):
                await server.unpair(client_id)

    async def async_stop(self) -> None:
        """Disconnect every player and stop the server."""
        if self._unsub_update is not None:
            self._unsub_update()
            self._unsub_update = None
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        if (server := self.server) is not None:
            self.server = None
            await server.close()

    def client(self, client_id: str) -> SendspinClient | None:
        """Return a known player."""
        return None if self.server is None else self.server.get_client(client_id)

    def players(self) -> dict[str, str]:
        """Return the players added to the box or connected now: client id -> name."""
        players = {client_id: name for client_id, (name, _url) in self.configured().items()}
        if self.server is not None:
            players |= {client.client_id: client.name for client in self.server.clients}
        return players

    @callback
    def listen(self, client_id: str, listener: Callable[[bool], None]) -> Callable[[], None]:
        """Call `listener(connected)` when the player connects or leaves."""
        listeners = self._listeners.setdefault(client_id, [])
        listeners.append(listener)

        @callback
        def remove() -> None:
            listeners.remove(listener)

        return remove

    @callback
    def _on_event(self, _server: SendspinServer, event: SendspinEvent) -> None:
        # Events may come from inside an inbound connection: what they start (tasks, streams,
        # dials to other players) must not inherit its leave to accept a plain hello.
        token = _AUTHENTICATED_INBOUND.set(False)
        try:
            self._handle_event(event)
        finally:
            _AUTHENTICATED_INBOUND.reset(token)

    @callback
    def _handle_event(self, event: SendspinEvent) -> None:
        if isinstance(event, ClientConnectedEvent):
            # The transport is up; the player is ready for audio once its first state arrived.
            self.entry.async_create_background_task(
                self.hass, self._async_announce(event.client_id), f"sendspin {event.client_id}"
            )
        elif isinstance(event, ClientDisconnectedEvent):
            self._notify(event.client_id, connected=False)

    async def _async_announce(self, client_id: str) -> None:
        for _ in range(round(ANNOUNCE_TIMEOUT_SECONDS / ANNOUNCE_POLL_SECONDS)):
            if (client := self.client(client_id)) is not None and client.is_connected:
                self._notify(client_id, connected=True)
                return
            await asyncio.sleep(ANNOUNCE_POLL_SECONDS)

    @callback
    def _notify(self, client_id: str, *, connected: bool) -> None:
        _LOGGER.debug("Sendspin player %s connected: %s", client_id, connected)
        for listener in list(self._listeners.get(client_id, [])):
            listener(connected)


def _is_public_key(client_id: str) -> bool:
    """Return True for a Noise peer id (a base64url X25519 public key)."""
    try:
        return len(b64url_decode(client_id)) == PUBLIC_KEY_BYTES
    except ValueError:
        return False


def _identity_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.sendspin.{entry_id}")


def _pairings_path(hass: HomeAssistant, entry_id: str) -> Path:
    return Path(hass.config.path(".storage", f"{DOMAIN}.sendspin_pairings.{entry_id}"))


async def async_remove_sendspin_data(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a deleted box's Sendspin identity and pairings."""
    await _identity_store(hass, entry_id).async_remove()
    await hass.async_add_executor_job(
        partial(_pairings_path(hass, entry_id).unlink, missing_ok=True)
    )
