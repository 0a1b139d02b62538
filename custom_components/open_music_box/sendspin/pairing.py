"""Pairing a Sendspin player with a box: the player shows a code, the user types it in HA.

The server dials the player (its URL typed in or discovered), runs Sendspin's dynamic pairing
code exchange and keeps the pairing (a PSK) in the box's pairing store; later connections to
that player are then encrypted with it.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from aiosendspin.models.types import ConnectionReason, PairingCodeFormat, PairMethod
from aiosendspin.noise.pairing import PairingAttempt

from .server import SendspinHub

CONNECT_TIMEOUT_SECONDS = 10.0
ROUND_TIMEOUT_SECONDS = 15.0  # from a code typed in to the player's answer
POLL_SECONDS = 0.05


class PairingResult(StrEnum):
    """What a code typed in did."""

    PAIRED = "paired"
    WRONG = "wrong"  # the player asks again (a new round, a new code on its screen)
    FAILED = "failed"  # the attempt ended: start again


class PlayerUnreachable(Exception):
    """Nothing answering as a Sendspin player at that URL."""


class PairingSession:
    """One pairing attempt, driven by a config flow's steps."""

    def __init__(self, hub: SendspinHub, url: str) -> None:
        """Initialize the pairing session."""
        self.hub = hub
        self.url = url
        self.client_id: str | None = None
        self.name: str | None = None
        self._codes: asyncio.Queue[str] = asyncio.Queue()
        self._asked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def async_connect(self) -> None:
        """Dial the player and learn who it is; raise PlayerUnreachable if nobody answers."""
        server = self.hub.server
        if server is None:
            raise PlayerUnreachable(self.url)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await server.connect_to_client_and_wait(
                    self.url, connection_reason=ConnectionReason.PAIRING
                )
                while True:
                    client_id = server.get_client_id_for_url(self.url)
                    client = server.get_client(client_id) if client_id else None
                    if client is not None and client.connection is not None:
                        break
                    await asyncio.sleep(POLL_SECONDS)
        except (TimeoutError, OSError, ValueError) as err:
            server.disconnect_from_client(self.url)
            raise PlayerUnreachable(self.url) from err
        self.client_id, self.name = client.client_id, client.name

    def start(self) -> None:
        """Ask the player to show a code."""
        assert self.hub.server is not None
        assert self.client_id is not None
        self._asked.clear()
        attempt = PairingAttempt(
            method=PairMethod.DYNAMIC_PAIRING_CODE,
            pairing_code_provider=self._next_code,
            pairing_format=PairingCodeFormat.DIGITS,
        )
        self._task = self.hub.entry.async_create_background_task(
            self.hub.hass,
            self.hub.server.initiate_pairing(self.client_id, attempt),
            f"sendspin pairing {self.url}",
        )

    async def _next_code(self) -> str:
        self._asked.set()
        return await self._codes.get()

    async def async_submit(self, code: str) -> PairingResult:
        """Hand the typed code to the exchange; return what the player answered."""
        task = self._task
        if task is None or task.done():
            self.start()
            task = self._task
            assert task is not None
        self._asked.clear()
        self._codes.put_nowait(code.replace("-", "").replace(" ", ""))
        asked = asyncio.ensure_future(self._asked.wait())
        try:
            await asyncio.wait(
                {task, asked}, timeout=ROUND_TIMEOUT_SECONDS, return_when="FIRST_COMPLETED"
            )
        finally:
            asked.cancel()
        if task.done():
            if task.cancelled() or task.exception() is not None:
                return PairingResult.FAILED
            return PairingResult.PAIRED
        return PairingResult.WRONG if self._asked.is_set() else PairingResult.FAILED

    def cancel(self) -> None:
        """Give up (the flow was closed): an unpaired player is not kept connected."""
        task = self._task
        paired = task is not None and task.done() and not task.cancelled() and not task.exception()
        if task is not None and not task.done():
            task.cancel()
        if not paired and self.hub.server is not None:
            self.hub.server.disconnect_from_client(self.url)
