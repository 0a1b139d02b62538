"""libmpv, driven from the event loop on one worker thread, and measured by a line fit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import importlib
import logging
import threading
import time
from typing import Any, TypeVar

from .errors import SatelliteError
from .shared.linefit import LineFit

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")  # not def f[T]: Raspberry Pi OS 12 has Python 3.11

LOAD_TIMEOUT = 15.0  # media comes over HTTP: allow a slow network
SPIN_SECONDS = 0.002  # busy-wait the last 2 ms before a start: sleep() is too coarse
MAX_LEAD = 0.5  # an output buffer longer than this is not believed
GRID_WATCH = 0.045  # the output's requests are watched this long before a start
GRID_POLL = 0.0005


class MpvPlayer:
    """One libmpv instance. Every libmpv call runs on one worker thread, in order.

    libmpv calls may block (a load takes mpv's core lock), so they never run in the event loop;
    one thread keeps them in the order the room sent them.
    """

    def __init__(self, ao: str | None = None, audio_device: str = "auto") -> None:
        self.ao = ao
        self.audio_device = audio_device
        # mpv's event thread adds to the fit, the event loop reads it: under a lock.
        self._fit = LineFit()
        self._fit_lock = threading.Lock()
        self.speed = 1.0
        self.playing = False  # unpaused with a file loaded
        self.loaded = False  # a file is open (paused or playing)
        self._mpv: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._restarted = threading.Event()  # mpv's playback-restart: a load/seek is done
        self._failed = threading.Event()  # the file being loaded failed
        self._last_pts: float | None = None  # last audio-pts notified
        self._start_pts: float | None = None  # audio-pts when we unpaused
        self._held = 0.0  # the position held paused
        self.lead = 0.0  # the silence queued in the output when we last unpaused

    async def _run(self, func: Callable[..., _T], *args: Any) -> _T:
        if self._executor is None:
            raise SatelliteError("mpv is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def open(self) -> None:
        """Start libmpv (python-mpv is imported here, so --help works without libmpv)."""
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
        if self.ao != "null":  # libmpv 0.35's null output can assert on it
            # Paused, the output plays silence: an unpause starts no device, so nothing is
            # skipped (measured at the output: 2-4 ms lost otherwise), and the sound starts one
            # output buffer later, which audio-pts tells while paused.
            options["audio_stream_silence"] = True
        if self.ao is not None:
            options["ao"] = self.ao
        if self.audio_device != "auto":
            options["audio_device"] = self.audio_device
        player = mpv.MPV(**options)
        player.register_event_callback(self._on_event)
        player.observe_property("audio-pts", self._on_pts)
        self._mpv = player

    def _reset_fit(self) -> None:
        with self._fit_lock:
            self._fit.reset()

    # mpv's event thread.

    def _on_pts(self, _name: str, value: Any) -> None:
        now = time.monotonic()  # first: the timestamp is what makes the fit accurate
        if value is None:
            return
        pts = float(value)
        # A notification of the paused position delivered late would bend the line: while
        # playing, only positions past the one we started from count.
        if self.playing and (self._start_pts is None or pts > self._start_pts):
            with self._fit_lock:
                self._fit.add(now, pts)
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
        self._reset_fit()
        self._last_pts = None
        self._restarted.clear()
        self._failed.clear()
        self._mpv.pause = True
        self._mpv.loadfile(url, "replace", start=f"{position:.6f}")
        self._held = position
        self.loaded = self._wait_restart(timeout)
        return self.loaded

    def _seek_paused(self, position: float, timeout: float) -> bool:
        self._mpv.pause = True
        self.playing = False
        self._reset_fit()
        if not self.loaded:
            return False
        self._last_pts = None
        self._restarted.clear()
        try:
            self._mpv.seek(position, "absolute", "exact")
        except Exception as err:  # python-mpv raises plain errors (no file open, ...)
            _LOGGER.debug("Seek refused by mpv: %s", err)
            return False
        self._held = position
        return self._wait_restart(timeout)

    def _read_lead(self) -> float:
        """How long after an unpause the held position is heard (audio-pts lags it, paused)."""
        if self.ao == "null":
            return 0.0  # no silence played while paused: the output starts at the unpause
        try:
            pts = self._mpv.audio_pts
        except Exception:  # python-mpv raises plain errors for unavailable values
            return 0.0
        if pts is None or not 0.0 < self._held - float(pts) < MAX_LEAD:
            return 0.0
        return self._held - float(pts)

    def _start_at(self, local_t: float) -> float:
        self.lead = self._read_lead()
        if self.lead:
            self._wait_on_grid(local_t)
        else:
            remaining = local_t - time.monotonic()
            if remaining > SPIN_SECONDS:
                time.sleep(remaining - SPIN_SECONDS)
            while time.monotonic() < local_t:
                pass  # busy-wait: a few ms of CPU for a start within microseconds
        self._reset_fit()
        self._start_pts = self._last_pts
        self.playing = True
        self._mpv.pause = False
        return time.monotonic() + self.lead

    def _wait_on_grid(self, local_t: float) -> None:
        """Return when the held position, unpaused now, would be heard at local_t or just after.

        The real audio enters the output at its next request after the unpause, so the instant
        it is heard, `now + lead`, stays put within one request period and jumps by a period at
        each request: it is watched until it reaches local_t (late by less than a period).
        """
        early = local_t - self.lead - GRID_WATCH - time.monotonic()
        if early > 0:
            time.sleep(early)
        while True:
            now = time.monotonic()
            lead = self._read_lead()
            # The first grid point at or after the instant: members on one output (one grid)
            # all choose the same one.
            if now + lead >= local_t or now >= local_t:
                break
            time.sleep(GRID_POLL)
        self.lead = lead

    def _set(self, name: str, value: Any) -> None:
        setattr(self._mpv, name, value)

    def _stop(self) -> None:
        self.playing = self.loaded = False
        self._reset_fit()
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
        if not self.playing:
            return None
        with self._fit_lock:
            return self._fit.value_at(t)

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
