"""Home Assistant's WebSocket API from the satellite's side: handshake, commands, events."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from .errors import EXIT_AUTH, CommandError, ConnectionLost, FatalError

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
HEARTBEAT = 10.0  # websocket pings: a dead network is noticed within seconds
WS_CLOSE_TIMEOUT = 2.0  # closing a dead connection does not wait for the peer's answer long

Reply = tuple[dict[str, Any], float]  # a result message and the local time it arrived
Events = asyncio.Queue[dict[str, Any] | None]  # None: the connection is gone


def base_url(url: str) -> str:
    """Return Home Assistant's HTTP base URL from what the user gave (http, ws, with path)."""
    base = url.rstrip("/")
    for ws_scheme, http_scheme in (("ws://", "http://"), ("wss://", "https://")):
        if base.startswith(ws_scheme):
            base = http_scheme + base.removeprefix(ws_scheme)
    return base.removesuffix("/api/websocket")


class Transport:
    """One WebSocket connection at a time: numbered commands, their results, the join's events."""

    def __init__(self, url: str, token: str) -> None:
        self.base_url = base_url(url)
        self.token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._join_id: int | None = None  # the join's id: its events are the room's
        self._clock_sampled = asyncio.Event()  # also set when the connection ends

    def _connect(self, http: aiohttp.ClientSession) -> Any:
        """Return the ws_connect context manager for Home Assistant's WebSocket API."""
        url = self.base_url + "/api/websocket"
        _LOGGER.info("Connecting to %s", url)
        # No permessage-deflate: the messages are tiny, and (de)compressing them on the way to
        # the server but not back skews the clock samples' one-way times (measured: ~0.05 ms).
        timeout = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=WS_CLOSE_TIMEOUT)
        return http.ws_connect(url, heartbeat=HEARTBEAT, timeout=timeout, compress=0)

    def _attach(self, ws: aiohttp.ClientWebSocketResponse | None) -> None:
        """Use a new (authenticated) connection, or none; ids start over."""
        self._ws = ws
        self._next_id = 1
        self._join_id = None

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """HA's handshake: auth_required, then our token, then auth_ok or auth_invalid."""
        hello = await self._receive_json(ws)
        if hello.get("type") != "auth_required":
            raise ConnectionLost(f"unexpected greeting {hello.get('type')!r}")
        await ws.send_json({"type": "auth", "access_token": self.token})
        reply = await self._receive_json(ws)
        if reply.get("type") == "auth_invalid":
            raise FatalError(
                "Home Assistant refused the access token "
                f"({reply.get('message', 'invalid')}): create a long-lived access token "
                "in your HA profile (Security tab) and pass it with --token or OMB_TOKEN",
                EXIT_AUTH,
            )
        if reply.get("type") != "auth_ok":
            raise ConnectionLost(f"unexpected auth reply {reply.get('type')!r}")
        _LOGGER.info("Authenticated (Home Assistant %s)", reply.get("ha_version", "?"))

    @staticmethod
    async def _receive_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        """Read one message of the handshake."""
        msg = await asyncio.wait_for(ws.receive(), REQUEST_TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionLost(f"connection closed during the handshake ({msg.type.name})")
        data = json.loads(msg.data)
        if not isinstance(data, dict):
            raise ConnectionLost("unexpected handshake message")
        return data

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse, events: Events) -> None:
        """Route results to their requests and room events to the event queue."""
        try:
            async for msg in ws:
                received = time.monotonic()  # t4 of a clock sample: before parsing
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                for message in data if isinstance(data, list) else [data]:
                    self._route(message, received, events)
        finally:
            events.put_nowait(None)  # tell the event loop the connection is gone
            self._clock_sampled.set()  # and a join waiting for the clock
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost("connection closed"))
            self._pending.clear()

    def _route(self, message: dict[str, Any], received: float, events: Events) -> None:
        kind = message.get("type")
        msg_id = message.get("id")
        if kind == "result" and isinstance(msg_id, int):
            future = self._pending.pop(msg_id, None)
            if future is not None and not future.done():
                future.set_result((message, received))
        elif kind == "event" and msg_id is not None and msg_id == self._join_id:
            events.put_nowait(message.get("event") or {})

    async def _send(
        self,
        message: dict[str, Any],
        future: asyncio.Future[Reply] | None = None,
        subscription: bool = False,
    ) -> float:
        """Send one message with the next id; return the local time it left.

        The id, the pending future and the subscription id are taken under the send lock, so
        a reply (or an event) can never arrive before its id is known.
        """
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionLost("not connected")
        async with self._send_lock:
            msg_id = message["id"] = self._next_id
            self._next_id += 1
            if future is not None:
                self._pending[msg_id] = future
            if subscription:
                self._join_id = msg_id
            text = json.dumps(message)
            # t1 of a clock sample: right before the write. Not after it: the write may hand
            # the CPU to Home Assistant, which can answer before send_str returns (measured).
            sent = time.monotonic()
            try:
                await ws.send_str(text)
            except (aiohttp.ClientError, OSError) as err:
                raise ConnectionLost(f"send failed: {err}") from err
        return sent

    async def _request(
        self,
        kind: str,
        payload: dict[str, Any],
        wait_s: float = REQUEST_TIMEOUT,
        subscription: bool = False,
    ) -> tuple[Any, float, float]:
        """Send a command; return (result, sent time, received time) or raise CommandError."""
        message: dict[str, Any] = {"type": kind, **payload}
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        try:
            sent = await self._send(message, future, subscription)
            reply, received = await asyncio.wait_for(future, wait_s)
        finally:
            if "id" in message:
                self._pending.pop(message["id"], None)
        if not reply.get("success", False):
            error = reply.get("error") or {}
            raise CommandError(str(error.get("code", "unknown")), str(error.get("message", "")))
        return reply.get("result"), sent, received
