"""Open Music Box reference satellite: play a Home Assistant sync room on another machine.

Copy this file to the machine with the speakers (a Raspberry Pi, say) and run:

    pip install aiohttp python-mpv        # and libmpv: apt install libmpv2
    python omb_satellite.py --url http://homeassistant.local:8123 --token <long-lived token> \
        --room <room id> [--name kitchen] [--audio-device auto] [--offset-ms 0] [--ao null]

The token may also come from the OMB_TOKEN environment variable. The satellite joins the room
over Home Assistant's WebSocket API, keeps its clock aligned with HA's (NTP over
`open_music_box/time`), plays what the room plays with libmpv, starting at the room's server
time, and reports its measured position so the room can trim its speed. It reconnects by itself
(exponential backoff) and resumes the same member when it is back within 60 s.

Exit codes: 0 stopped or removed from the room, 1 token refused, 2 room not found or removed.
Needs Python >= 3.11 and only aiohttp + python-mpv.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import contextlib
import importlib
import json
import logging
import math
import os
import random
import signal
import socket
import sys
import threading
import time
from typing import Any, TypeVar

import aiohttp

_LOGGER = logging.getLogger("omb_satellite")
_T = TypeVar("_T")

# Clock: fast polling until the sample window is full, then slow polling to follow drift.
CLOCK_KEEP = 8
CLOCK_FAST_INTERVAL = 0.2
CLOCK_SLOW_INTERVAL = 3.0
JOIN_MIN_SAMPLES = 3  # a few samples before joining: the first start uses the offset
JOIN_CLOCK_TIMEOUT = 5.0
REQUEST_TIMEOUT = 10.0
CLOCK_TIMEOUT = 5.0  # a clock sample this late means the network (or HA) is gone

# Playback.
REPORT_INTERVAL = 0.5
FIT_WINDOW = 1.0  # seconds of audio-pts samples in the line fit
FIT_MIN_SAMPLES = 3
LOAD_TIMEOUT = 15.0  # media comes over HTTP: allow a slow network
SPIN_SECONDS = 0.002  # busy-wait the last 2 ms before a start: sleep() is too coarse
START_MIN_LEAD = 0.005  # a start closer than this (or past) is a late start
START_LATE_WARN_MS = 10.0  # a busy machine can wake the start thread late
LATE_MARGIN = 0.3  # a late start seeks to where the room will be this far ahead
JOIN_LEAD = 0.5  # a join into a playing room starts this far ahead
CONTINUE_TOLERANCE = 0.2  # after a reconnect, keep playing when this close to the room

# Reconnection.
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 0.2
HEARTBEAT = 10.0  # websocket pings: a dead network is noticed within seconds
WS_CLOSE_TIMEOUT = 2.0  # closing a dead connection does not wait for the peer's answer long
NAME_MAX = 64

EXIT_OK = 0
EXIT_AUTH = 1
EXIT_ROOM = 2


def _ws_timeout() -> Any:
    """Return ws_connect's timeout: a ClientWSTimeout (aiohttp >= 3.11) or the close timeout."""
    timeout_class = getattr(aiohttp, "ClientWSTimeout", None)
    if timeout_class is None:
        return WS_CLOSE_TIMEOUT
    return timeout_class(ws_receive=None, ws_close=WS_CLOSE_TIMEOUT)


class SatelliteError(Exception):
    """Base of the satellite's own errors."""


class FatalError(SatelliteError):
    """Stop for good (bad token, no such room, removed): retrying cannot help."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConnectionLost(SatelliteError):
    """The session ended; reconnect after a backoff."""


class CommandError(SatelliteError):
    """HA answered a command with an error result."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


# Clock ---------------------------------------------------------------------------------


class ClockEstimator:
    """Offset between HA's clock (server time) and ours, from NTP samples.

    Keeps the last samples; the one with the smallest round trip is the least disturbed by
    queueing, so its offset wins.
    """

    def __init__(self, keep: int = CLOCK_KEEP) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (offset, rtt)

    def add(self, t1: float, t2: float, t3: float, t4: float) -> None:
        """Add a sample: sent at t1 and received at t4 (ours), t2/t3 = HA's receipt/reply."""
        offset = ((t2 - t1) + (t3 - t4)) / 2
        rtt = (t4 - t1) - (t3 - t2)
        self._samples.append((offset, max(rtt, 0.0)))

    def reset(self) -> None:
        """Forget every sample (a new connection may reach another HA process)."""
        self._samples.clear()

    def _best(self) -> tuple[float, float]:
        return min(self._samples, key=lambda sample: sample[1], default=(0.0, 0.0))

    @property
    def offset(self) -> float:
        """Server time minus local time, in seconds (0 before the first sample)."""
        return self._best()[0]

    @property
    def rtt(self) -> float:
        """Round trip of the sample in use, in seconds."""
        return self._best()[1]

    @property
    def ready(self) -> bool:
        """True once there is at least one sample."""
        return bool(self._samples)

    @property
    def samples(self) -> int:
        """Number of samples kept (at most `keep`)."""
        return len(self._samples)

    def server_now(self) -> float:
        """Return the current server time."""
        return time.monotonic() + self.offset

    def to_local(self, server_time: float) -> float:
        """Convert a server time to our time.monotonic()."""
        return server_time - self.offset


# Measuring mpv -------------------------------------------------------------------------


class LineFit:
    """Least-squares line through timestamped (monotonic time, value) samples of the last window.

    mpv's position notifications are late and irregular, a single read is off by up to
    tens of ms; a line through a second of timestamped samples is accurate to well under 1 ms.
    Thread-safe: mpv's event thread adds, the event loop reads.
    """

    def __init__(self, window: float = FIT_WINDOW, min_samples: int = FIT_MIN_SAMPLES) -> None:
        self.window = window
        self.min_samples = min_samples
        self._samples: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()

    def add(self, t: float, value: float) -> None:
        """Add a sample taken at monotonic time t; drop those older than the window."""
        with self._lock:
            self._samples.append((t, value))
            while self._samples and self._samples[0][0] < t - self.window:
                self._samples.popleft()

    def reset(self) -> None:
        """Forget every sample (the line breaks at a load, seek, pause or start)."""
        with self._lock:
            self._samples.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    def value_at(self, t: float) -> float | None:
        """Return the fitted value at time t, or None with too few samples."""
        with self._lock:
            samples = list(self._samples)
        if len(samples) < self.min_samples:
            return None
        # Centred on the mean: monotonic times are large, their squares would lose precision.
        mean_t = sum(s[0] for s in samples) / len(samples)
        mean_v = sum(s[1] for s in samples) / len(samples)
        var_t = sum((s[0] - mean_t) ** 2 for s in samples)
        if var_t == 0:
            return mean_v
        slope = sum((s[0] - mean_t) * (s[1] - mean_v) for s in samples) / var_t
        return mean_v + slope * (t - mean_t)


class MpvPlayer:
    """One libmpv instance. Every libmpv call runs on one worker thread, in order.

    libmpv calls may block (a load takes mpv's core lock), so they never run in the event loop;
    one thread keeps them in the order the room sent them.
    """

    def __init__(self, ao: str | None = None, audio_device: str = "auto") -> None:
        self.ao = ao
        self.audio_device = audio_device
        self.fit = LineFit()
        self.speed = 1.0
        self.playing = False  # unpaused with a file loaded
        self.loaded = False  # a file is open (paused or playing)
        self._mpv: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._restarted = threading.Event()  # mpv's playback-restart: a load/seek is done
        self._failed = threading.Event()  # the file being loaded failed
        self._last_pts: float | None = None  # last audio-pts notified
        self._start_pts: float | None = None  # audio-pts when we unpaused

    async def _run(self, func: Callable[..., _T], *args: Any) -> _T:
        if self._executor is None:
            raise SatelliteError("mpv is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def open(self) -> None:
        """Start libmpv (python-mpv is imported here, so --help works without it)."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omb_mpv")
        await self._run(self._open)

    def _open(self) -> None:
        mpv = importlib.import_module("mpv")
        options: dict[str, Any] = {
            "audio_pitch_correction": False,  # speed trims of 0.1 % change pitch inaudibly
            "video": False,
            "vo": "null",
            "idle": True,
            "input_default_bindings": False,
            "ytdl": False,
        }
        if self.ao is not None:
            options["ao"] = self.ao
        if self.audio_device != "auto":
            options["audio_device"] = self.audio_device
        player = mpv.MPV(**options)
        player.register_event_callback(self._on_event)
        player.observe_property("audio-pts", self._on_pts)
        self._mpv = player

    # mpv's event thread.

    def _on_pts(self, _name: str, value: Any) -> None:
        now = time.monotonic()  # first: the timestamp is what makes the fit accurate
        if value is None:
            return
        pts = float(value)
        # A notification of the paused position delivered late would bend the line: while
        # playing, only positions past the one we started from count.
        if self.playing and (self._start_pts is None or pts > self._start_pts):
            self.fit.add(now, pts)
        self._last_pts = pts

    def _on_event(self, event: Any) -> None:
        data = event.as_dict()
        kind = data.get("event")
        if kind == b"playback-restart":
            self._restarted.set()
        elif kind == b"end-file" and data.get("reason") in (b"eof", b"error"):
            self.playing = self.loaded = False
            if data.get("reason") == b"error":
                self._failed.set()

    # Worker thread.

    def _wait_restart(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._restarted.wait(0.05):
            if self._failed.is_set() or time.monotonic() > deadline:
                return False
        return True

    def _load(self, url: str, position: float, timeout: float) -> bool:
        self.playing = self.loaded = False
        self.fit.reset()
        self._last_pts = None
        self._restarted.clear()
        self._failed.clear()
        self._mpv.pause = True
        self._mpv.loadfile(url, "replace", start=f"{position:.6f}")
        self.loaded = self._wait_restart(timeout)
        return self.loaded

    def _seek_paused(self, position: float, timeout: float) -> bool:
        self._mpv.pause = True
        self.playing = False
        self.fit.reset()
        if not self.loaded:
            return False
        self._last_pts = None
        self._restarted.clear()
        try:
            self._mpv.seek(position, "absolute", "exact")
        except Exception as err:  # python-mpv raises plain errors (no file open, ...)
            _LOGGER.debug("Seek refused by mpv: %s", err)
            return False
        return self._wait_restart(timeout)

    def _start_at(self, local_t: float) -> float:
        remaining = local_t - time.monotonic()
        if remaining > SPIN_SECONDS:
            time.sleep(remaining - SPIN_SECONDS)
        while time.monotonic() < local_t:
            pass  # busy-wait: a few ms of CPU for a start within microseconds
        self.fit.reset()
        self._start_pts = self._last_pts
        self.playing = True
        self._mpv.pause = False
        return time.monotonic()

    def _set(self, name: str, value: Any) -> None:
        setattr(self._mpv, name, value)

    def _stop(self) -> None:
        self.playing = self.loaded = False
        self.fit.reset()
        self._mpv.command("stop")

    # Public API (event loop).

    async def load(self, url: str, position: float, wait_s: float = LOAD_TIMEOUT) -> bool:
        """Load url paused at position; True once mpv has restarted there (within wait_s)."""
        return await self._run(self._load, url, position, wait_s)

    async def pause_at_position(self, position: float, wait_s: float = LOAD_TIMEOUT) -> bool:
        """Pause and exact-seek in the loaded file; True once mpv has restarted there."""
        return await self._run(self._seek_paused, position, wait_s)

    async def start_at(self, local_t: float) -> float:
        """Unpause at local monotonic time local_t; return when it actually happened."""
        return await self._run(self._start_at, local_t)

    async def set_speed(self, speed: float) -> None:
        """Set mpv's playback speed (the room's trim)."""
        self.speed = speed
        await self._run(self._set, "speed", speed)

    async def set_volume(self, volume: float, muted: bool = False) -> None:
        """Set the volume (0..1) and mute."""
        await self._run(self._set, "volume", round(max(0.0, min(volume, 1.0)) * 100, 1))
        await self._run(self._set, "mute", muted)

    async def stop(self) -> None:
        """Stop playback and unload the file."""
        await self._run(self._stop)

    def position_at(self, t: float) -> float | None:
        """Return the fitted audio position at local monotonic time t (None: not measured)."""
        return self.fit.value_at(t) if self.playing else None

    async def close(self) -> None:
        """Terminate libmpv and the worker thread."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        if self._mpv is not None:
            await loop.run_in_executor(executor, self._mpv.terminate)
            self._mpv = None
        self.playing = self.loaded = False
        await loop.run_in_executor(None, executor.shutdown)


# The satellite --------------------------------------------------------------------------


class Backoff:
    """Exponential backoff with jitter: 1 s, 2 s, 4 s ... 30 s, each ±20 %."""

    def __init__(self, first: float = BACKOFF_FIRST, maximum: float = BACKOFF_MAX) -> None:
        self.first = first
        self.maximum = maximum
        self._next = first

    def reset(self) -> None:
        """Back to the first delay (after a successful join)."""
        self._next = self.first

    def next_delay(self) -> float:
        """Return the next delay and double the following one."""
        delay = self._next * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
        self._next = min(self._next * 2, self.maximum)
        return delay


class Satellite:
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
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Prepare a satellite; `session` (optional) is used as is and not closed by us."""
        base = url.rstrip("/")
        for ws_scheme, http_scheme in (("ws://", "http://"), ("wss://", "https://")):
            if base.startswith(ws_scheme):
                base = http_scheme + base.removeprefix(ws_scheme)
        base = base.removesuffix("/api/websocket")
        self.base_url = base
        self.token = token
        self.room_id = room_id
        self.name = (name or socket.gethostname() or "Satellite")[:NAME_MAX]
        self.offset_ms = offset_ms
        self.clock = ClockEstimator()
        self.player = MpvPlayer(ao=ao, audio_device=audio_device)
        self.member_id: str | None = None
        self.generation: int | None = None
        self.track_id: str | None = None  # the track loaded in mpv
        self.joined = asyncio.Event()  # set at each successful join, cleared when it ends
        self.exit_code: int | None = None
        self.backoff = Backoff()
        self._http = session
        self._stopping = False
        self._clock_sampled = asyncio.Event()
        self._stop_requested = asyncio.Event()  # wakes the backoff sleep
        self._stopped = asyncio.Event()  # run() has finished
        self._running = False
        self._session_task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], float]]] = {}
        self._join_id: int | None = None

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
                while not self._stopping and self.exit_code is None:
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
                    if self._stopping or self.exit_code is not None:
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
        url = self.base_url + "/api/websocket"
        _LOGGER.info("Connecting to %s", url)
        # No permessage-deflate: the messages are tiny, and (de)compressing them on the way to
        # the server but not back skews the clock samples' one-way times (measured: ~0.05 ms).
        async with http.ws_connect(
            url, heartbeat=HEARTBEAT, timeout=_ws_timeout(), compress=0
        ) as ws:
            await self._authenticate(ws)
            self._ws = ws
            self._next_id = 1
            self._join_id = None
            events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
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
                self._ws = None
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

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

    async def _read_loop(
        self, ws: aiohttp.ClientWebSocketResponse, events: asyncio.Queue[dict[str, Any] | None]
    ) -> None:
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

    def _route(
        self,
        message: dict[str, Any],
        received: float,
        events: asyncio.Queue[dict[str, Any] | None],
    ) -> None:
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
        future: asyncio.Future[tuple[dict[str, Any], float]] | None = None,
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
        future: asyncio.Future[tuple[dict[str, Any], float]] = (
            asyncio.get_running_loop().create_future()
        )
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

    # Clock ------------------------------------------------------------------------------

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
            fast = self.clock.samples < CLOCK_KEEP
            await asyncio.sleep(CLOCK_FAST_INTERVAL if fast else CLOCK_SLOW_INTERVAL)

    # Joining and events ------------------------------------------------------------------

    async def _join(self) -> None:
        deadline = time.monotonic() + JOIN_CLOCK_TIMEOUT
        while self.clock.samples < JOIN_MIN_SAMPLES and time.monotonic() < deadline:
            if self._ws is None or self._ws.closed:
                raise ConnectionLost("connection closed")
            self._clock_sampled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clock_sampled.wait(), deadline - time.monotonic())
        if not self.clock.ready:
            raise ConnectionLost("no clock sample from Home Assistant")
        payload: dict[str, Any] = {
            "room_id": self.room_id,
            "name": self.name,
            "offset_ms": self.offset_ms,
        }
        if self.member_id is not None:
            payload["member_id"] = self.member_id
        try:
            result, _, _ = await self._request(
                "open_music_box/room/join", payload, subscription=True
            )
        except CommandError as err:
            if err.code == "room_not_found" and self.member_id is None:
                raise FatalError(
                    f"Room {self.room_id!r} not found: use the room_id attribute of the room's "
                    "media player in Home Assistant",
                    EXIT_ROOM,
                ) from err
            if err.code == "room_not_found":
                # We were in it: Home Assistant is restarting or reloading the box. Retry.
                raise ConnectionLost(
                    "the room is not there yet (Home Assistant restarting?)"
                ) from err
            raise
        self.member_id = str(result["member_id"])
        self.backoff.reset()
        self.joined.set()
        _LOGGER.info(
            "Joined room %s as member %s%s (clock offset %.3f ms, rtt %.3f ms)",
            self.room_id,
            self.member_id,
            " (resumed)" if result.get("rejoined") else "",
            self.clock.offset * 1000,
            self.clock.rtt * 1000,
        )

    async def _event_loop(self, events: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Handle room events in order until the subscription or the connection ends."""
        while True:
            event = await events.get()
            if event is None:
                raise ConnectionLost("connection closed")
            kind = event.get("type")
            _LOGGER.debug("Event %s", event)
            if kind == "closed":
                await self._on_closed(str(event.get("reason")))
                return
            try:
                await self._handle(kind, event)
            except (ConnectionLost, TimeoutError):
                raise  # the connection is gone or HA is stuck: reconnect
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.warning("Bad %s event %s: %s", kind, event, err)
            except CommandError as err:
                _LOGGER.warning("Home Assistant refused a message: %s", err)
            except Exception:  # mpv refused a command: the next event may work
                _LOGGER.exception("Could not apply the %s event", kind)

    async def _handle(self, kind: Any, event: dict[str, Any]) -> None:
        if kind in ("prepare", "start", "pause") and self._is_stale(int(event["generation"])):
            _LOGGER.debug("Ignoring stale %s", kind)
            return
        if kind == "state":
            await self._on_state(event)
        elif kind == "prepare":
            self.generation = int(event["generation"])
            if await self._prepare(event.get("track_id"), str(event["url"]), event["position"]):
                await self._send_ready(self.generation)
        elif kind == "start":
            self.generation = int(event["generation"])
            await self._start(float(event["position"]), float(event["server_time"]))
        elif kind == "pause":
            self.generation = int(event["generation"])
            await self.player.pause_at_position(float(event["position"]))
        elif kind == "speed":
            await self.player.set_speed(float(event["speed"]))
        elif kind == "volume":
            await self.player.set_volume(float(event["volume"]), bool(event.get("muted")))
        elif kind == "stop":
            self.track_id = None
            await self.player.stop()
        else:
            _LOGGER.debug("Unknown event %r", kind)

    def _is_stale(self, generation: int) -> bool:
        return self.generation is not None and generation < self.generation

    async def _on_state(self, event: dict[str, Any]) -> None:
        """Right after a join: take the room's volume and timeline."""
        if event.get("member_id"):
            self.member_id = str(event["member_id"])
        if "volume" in event:
            await self.player.set_volume(float(event["volume"]), bool(event.get("muted")))
        timeline = event["timeline"]
        self.generation = int(timeline["generation"])
        state, url = timeline["state"], timeline.get("url")
        if state == "idle" or not url:
            self.track_id = None
            await self.player.stop()
            return
        position, server_time = float(timeline["position"]), float(timeline["server_time"])
        rate = float(timeline.get("rate", 1.0))
        if state == "playing":
            target = self.clock.server_now() + JOIN_LEAD  # late join: start ourselves
            position += (target - server_time) * rate
            if self._can_continue(timeline.get("track_id"), position, target):
                _LOGGER.info("Still in step with the room: playing on")
                return
            if await self._prepare(timeline.get("track_id"), str(url), position):
                await self._start(position, target)
        elif await self._prepare(timeline.get("track_id"), str(url), position):
            await self._send_ready(self.generation)

    def _can_continue(self, track_id: Any, position: float, server_time: float) -> bool:
        """After a reconnect: True when we still play the room's track close to its position."""
        if not self.player.playing or track_id is None or str(track_id) != self.track_id:
            return False
        ours = self.player.position_at(self.clock.to_local(server_time))
        return ours is not None and abs(ours - position) < CONTINUE_TOLERANCE

    async def _prepare(self, track_id: Any, url: str, position: Any) -> bool:
        """Be paused at position in the track at speed 1: a seek in the loaded track, else a load.

        A barrier realigns everyone, so any speed trim starts over from 1.0.
        """
        track = None if track_id is None else str(track_id)
        position = max(0.0, float(position))
        if self.player.speed != 1.0:
            await self.player.set_speed(1.0)
        same = track is not None and track == self.track_id and self.player.loaded
        if same and await self.player.pause_at_position(position):
            return True
        full_url = self.base_url + url if url.startswith("/") else url
        if await self.player.load(full_url, position):
            self.track_id = track
            return True
        self.track_id = None
        _LOGGER.warning("Could not load the room's track (timeout or error)")
        return False

    async def _start(self, position: float, server_time: float) -> None:
        """Be playing at position at server_time; when that moment has passed, catch up."""
        if not self.player.loaded:
            _LOGGER.warning("Start without a loaded track: waiting for the next prepare")
            return
        if self.player.playing:  # a realignment: stop where we are, go to the room's place
            await self.player.pause_at_position(position)
        for _ in range(3):  # a slow seek can make the new instant late again
            now = self.clock.server_now()
            if server_time - now > START_MIN_LEAD:
                break
            target = now + LATE_MARGIN
            position += target - server_time
            server_time = target
            _LOGGER.info("Late start: seeking to %.3f s", position)
            await self.player.pause_at_position(position)
        local_t = self.clock.to_local(server_time)
        late_ms = (await self.player.start_at(local_t) - local_t) * 1000
        # Reports measure the audio itself, so the room corrects a late start; say so anyway.
        log = _LOGGER.warning if late_ms > START_LATE_WARN_MS else _LOGGER.debug
        log("Started at %.3f s, %.3f ms after the target", position, late_ms)

    async def _send_ready(self, generation: int) -> None:
        await self._request(
            "open_music_box/room/ready",
            {"room_id": self.room_id, "member_id": self.member_id, "generation": generation},
        )

    async def _on_closed(self, reason: str) -> None:
        """Stop for good when removed or replaced; otherwise (dropped, unloaded) rejoin."""
        if reason not in ("left", "removed", "room_removed", "replaced"):
            raise ConnectionLost(f"room subscription closed ({reason})")
        self.track_id = None
        await self.player.stop()
        if reason == "room_removed":
            raise FatalError(f"Room {self.room_id!r} was removed from Home Assistant", EXIT_ROOM)
        if reason == "replaced":  # rejoining would take it back, and so on forever
            raise FatalError("Another connection took over this member: exiting", EXIT_OK)
        raise FatalError("No longer a member of the room: exiting", EXIT_OK)

    # Reports ----------------------------------------------------------------------------

    async def _report_loop(self) -> None:
        """Every 0.5 s while playing: where the audio is, at which server time."""
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
                        "server_time": now + self.clock.offset,
                        "clock_offset": self.clock.offset,
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


# Command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description="Open Music Box satellite: play a sync room.")
    parser.add_argument("--url", required=True, help="Home Assistant URL, e.g. http://ha:8123")
    parser.add_argument("--token", default=os.environ.get("OMB_TOKEN"), help="long-lived token")
    parser.add_argument(
        "--room", required=True, help="room id (the room_id attribute of the room's media player)"
    )
    parser.add_argument("--name", default=None, help="member name (default: host name)")
    parser.add_argument("--audio-device", default="auto", help="mpv audio device")
    parser.add_argument("--offset-ms", type=float, default=0.0, help="speaker latency, ms")
    parser.add_argument("--ao", default=None, help="mpv audio output override (e.g. null)")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is required: --token or the OMB_TOKEN environment variable")
    if not math.isfinite(args.offset_ms) or abs(args.offset_ms) > 1000:
        parser.error("--offset-ms must be between -1000 and 1000")
    return args


async def _main(args: argparse.Namespace) -> int:
    satellite = Satellite(
        args.url,
        args.token,
        args.room,
        name=args.name,
        audio_device=args.audio_device,
        offset_ms=args.offset_ms,
        ao=args.ao,
    )
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()

    def on_signal() -> None:
        task = asyncio.create_task(satellite.stop())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    return await satellite.run()


def main(argv: list[str] | None = None) -> int:
    """Run the satellite from the command line; return the exit code."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
