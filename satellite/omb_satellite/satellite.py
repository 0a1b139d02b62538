"""The satellite: connect, keep the clock, join the room, follow it, report, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import time
from typing import Any

import aiohttp

from .backoff import Backoff
from .errors import (
    EXIT_OK,
    EXIT_PROTOCOL,
    EXIT_ROOM,
    CommandError,
    ConnectionLost,
    FatalError,
    SatelliteError,
)
from .follower import Follower
from .shared.protocol import PROTOCOL
from .transport import Events

_LOGGER = logging.getLogger(__name__)

JOIN_CLOCK_TIMEOUT = 5.0  # join with what the clock has by then (a few samples normally)
CLOCK_TIMEOUT = 5.0  # a clock sample this late means the network (or HA) is gone
REPORT_INTERVAL = 0.25  # the room measures every 0.25 s: a new report each time
NAME_MAX = 64


class Satellite(Follower):
    """A remote member of an Open Music Box room."""

    def __init__(
        self,
        url: str,
        token: str,
        room_id: str,
        *,
        name: str | None = None,
        audio_device: str = "auto",
        offset_ms: float = 0.0,
        ao: str | None = None,
        member_id: str | None = None,
        protocol: int = PROTOCOL,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Prepare a satellite.

        `member_id` is its lasting identity (the room takes it back as the same member);
        `session` (optional) is used as is and not closed by us.
        """
        super().__init__(url, token, room_id, ao=ao, audio_device=audio_device)
        self.name = (name or socket.gethostname() or "Satellite")[:NAME_MAX]
        self.offset_ms = offset_ms
        self.member_id = member_id
        self.protocol = protocol
        self.joined = asyncio.Event()  # set at each successful join, cleared when it ends
        self.exit_code: int | None = None
        self.backoff = Backoff()
        self._http = session
        self._was_member = False  # joined once in this run: a missing room may come back
        self._stopping = False
        self._stop_requested = asyncio.Event()  # wakes the backoff sleep
        self._stopped = asyncio.Event()  # run() has finished
        self._running = False
        self._session_task: asyncio.Task[None] | None = None

    # Running ----------------------------------------------------------------------------

    async def run(self) -> int:
        """Connect, join and play until stopped or a fatal error; return the exit code."""
        self._running = True
        try:
            await self.player.open()
            async with contextlib.AsyncExitStack() as stack:
                http = self._http
                if http is None:
                    http = await stack.enter_async_context(aiohttp.ClientSession())
                while not self._done():
                    await self._one_session(http)
                    if self._done():  # a method: mypy must not assume the loop test holds
                        break
                    delay = self.backoff.next_delay()
                    _LOGGER.info("Reconnecting in %.1f s", delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_requested.wait(), delay)
        finally:
            await self.player.close()
            self._running = False
            self._stopped.set()
        return self.exit_code or EXIT_OK

    def _done(self) -> bool:
        """Return True once stopped, or after a fatal error."""
        return self._stopping or self.exit_code is not None

    async def _one_session(self, http: aiohttp.ClientSession) -> None:
        """Run one connection to its end; log why it ended."""
        self._session_task = asyncio.create_task(self._session(http))
        try:
            await self._session_task
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # run() itself is cancelled
        except FatalError as err:
            level = logging.INFO if err.exit_code == EXIT_OK else logging.ERROR
            _LOGGER.log(level, "%s", err)
            self.exit_code = err.exit_code
        except CommandError as err:  # only a join error gets this far
            _LOGGER.warning("Could not join the room: %s", err)
        except (ConnectionLost, aiohttp.ClientError, OSError) as err:
            _LOGGER.warning("Home Assistant connection failed or lost: %s", err)
        except TimeoutError:
            _LOGGER.warning("Home Assistant does not answer")
        except Exception:  # unattended: a bug must not end the service
            _LOGGER.exception("Unexpected error")
        finally:
            self.joined.clear()

    async def stop(self) -> None:
        """Leave the room politely if connected, disconnect and close mpv."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        self._stop_requested.set()
        if self.joined.is_set() and self.member_id is not None:
            _LOGGER.info("Leaving the room")
            self.joined.clear()  # no more reports
            try:
                await self._request(
                    "open_music_box/room/leave",
                    {"room_id": self.room_id, "member_id": self.member_id},
                    wait_s=2.0,
                )
            except (SatelliteError, aiohttp.ClientError, OSError, TimeoutError) as err:
                _LOGGER.debug("Leave not acknowledged: %s", err)
        if self._session_task is not None:
            self._session_task.cancel()
        if self._running:
            await self._stopped.wait()
        else:
            await self.player.close()
            self._stopped.set()

    # One connection -------------------------------------------------------------------

    async def _session(self, http: aiohttp.ClientSession) -> None:
        async with self._connect(http) as ws:
            await self._authenticate(ws)
            self._attach(ws)
            events: Events = asyncio.Queue()
            self.clock.reset()
            tasks = [
                asyncio.create_task(self._read_loop(ws, events)),
                asyncio.create_task(self._clock_loop(ws)),
                asyncio.create_task(self._report_loop()),
            ]
            try:
                await self._join()
                await self._event_loop(events)
            finally:
                self.joined.clear()
                self._attach(None)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _clock_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Sample the clock forever while connected; a silent HA ends the connection."""
        while True:
            try:
                result, t1, t4 = await self._request("open_music_box/time", {}, CLOCK_TIMEOUT)
                self.clock.add(t1, float(result["t2"]), float(result["t3"]), t4)
                self._clock_sampled.set()
            except CommandError as err:
                _LOGGER.warning("Clock sample refused: %s", err)
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.warning("Bad clock sample: %s", err)
            except TimeoutError:
                _LOGGER.warning("No clock reply from Home Assistant: reconnecting")
                await ws.close()
                return
            except ConnectionLost:
                return
            await asyncio.sleep(self.clock.poll_interval)

    async def _join(self) -> None:
        deadline = time.monotonic() + JOIN_CLOCK_TIMEOUT
        while not self.clock.ready and time.monotonic() < deadline:
            if self._ws is None or self._ws.closed:
                raise ConnectionLost("connection closed")
            self._clock_sampled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clock_sampled.wait(), deadline - time.monotonic())
        if not self.clock.samples:
            raise ConnectionLost("no clock sample from Home Assistant")
        payload: dict[str, Any] = {
            "room_id": self.room_id,
            "name": self.name,
            "offset_ms": self.offset_ms,
            "protocol": self.protocol,
        }
        if self.member_id is not None:
            payload["member_id"] = self.member_id
        try:
            result, _, _ = await self._request(
                "open_music_box/room/join", payload, subscription=True
            )
        except CommandError as err:
            raise self._join_error(err) from err
        self.member_id = str(result["member_id"])
        self._was_member = True
        self.backoff.reset()
        self.joined.set()
        _LOGGER.info(
            "Joined room %s as member %s%s (clock offset %.3f ms ± %.3f, rtt %.3f ms)",
            self.room_id,
            self.member_id,
            " (resumed)" if result.get("rejoined") else "",
            self.clock.offset * 1000,
            self.clock.error * 1000,
            self.clock.rtt * 1000,
        )

    def _join_error(self, err: CommandError) -> SatelliteError:
        """Return what a refused join means: stop for good, or retry later."""
        if err.code == "satellite_protocol":  # the integration's own, translated words
            return FatalError(err.message, EXIT_PROTOCOL)
        if err.code == "room_not_found" and not self._was_member:
            return FatalError(
                f"Room {self.room_id!r} not found: use the room_id attribute of the room's "
                "media player in Home Assistant",
                EXIT_ROOM,
            )
        if err.code == "room_not_found":
            # We were in it: Home Assistant is restarting or reloading the box. Retry.
            return ConnectionLost("the room is not there yet (Home Assistant restarting?)")
        return err

    async def _report_loop(self) -> None:
        """Every REPORT_INTERVAL while playing: where the audio is, at which server time."""
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            if not self.joined.is_set() or self.generation is None:
                continue
            now = time.monotonic()
            position = self.player.position_at(now)
            if position is None or not math.isfinite(position):
                continue
            try:
                await self._request(
                    "open_music_box/room/report",
                    {
                        "room_id": self.room_id,
                        "member_id": self.member_id,
                        "generation": self.generation,
                        "position": max(0.0, position),
                        "server_time": self.clock.to_server(now),
                        "clock_offset": self.clock.offset_at(now),
                        "clock_rtt": self.clock.rtt,
                        "speed": self.player.speed,
                    },
                )
            except CommandError as err:
                _LOGGER.warning("Report refused: %s", err)
            except TimeoutError:
                _LOGGER.debug("Report not acknowledged")
            except ConnectionLost:
                return
