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
from .shared.leadin import LeadIn, notice, output_lead, warm_up
from .shared.linefit import LineFit
from .shared.ptsreader import PtsReader, exact_pulse_latency

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")  # not def f[T]: Raspberry Pi OS 12 has Python 3.11

LOAD_TIMEOUT = 15.0  # media comes over HTTP: allow a slow network
SETTLE = 0.05  # pts reported right after the start instant still describe the lead-in


class MpvPlayer:
    """One libmpv instance. Every libmpv call runs on one worker thread, in order.

    libmpv calls may block (a load takes mpv's core lock), so they never run in the event loop;
    one thread keeps them in the order the room sent them.
    """

    def __init__(self, ao: str | None = None, audio_device: str = "auto") -> None:
        self.ao = ao
        self.audio_device = audio_device
        # The audio-pts reader's thread adds to the fit, the event loop reads it: under a lock.
        self._fit = LineFit()
        self._fit_lock = threading.Lock()
        self.speed = 1.0
        self.playing = False  # unpaused with a file loaded
        self.loaded = False  # a file is open (paused or playing)
        self._mpv: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._restarted = threading.Event()  # mpv's playback-restart: a load/seek is done
        self._failed = threading.Event()  # the file being loaded failed
        self._accept_from = float("inf")  # monotonic: samples before this are not on the line
        self._held = 0.0  # the position held paused
        self.lead = 0.0  # the silence queued in the output when we last unpaused
        self.lead_in = LeadIn()  # a start's silent lead-in, trimmed to be heard on time
        self._reader: PtsReader | None = None

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
        exact_pulse_latency(player)
        player.register_event_callback(self._on_event)
        self._mpv = player
        # Read and dated on a thread of its own: a notification is dated late whenever the
        # event loop holds the GIL (shared/ptsreader.py).
        self._reader = PtsReader(self._read_pts, self._on_pts, "omb_pts")

    def _reset_fit(self) -> None:
        if self._reader is not None:
            self._reader.pause()  # until the next start
        with self._fit_lock:
            self._fit.reset()

    # The reader's thread.

    def _read_pts(self) -> float | None:
        player = self._mpv
        value = None if player is None else player.audio_pts  # None while unavailable
        return None if value is None else float(value)

    def _on_pts(self, stamp: float, pts: float) -> None:
        # Only what is heard from the start instant on is on the line (not the lead-in).
        if not self.playing or stamp < self._accept_from:
            return
        with self._fit_lock:
            self._fit.add(stamp, self.lead_in.position(pts))

    # mpv's event thread.

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
        self._restarted.clear()
        self._failed.clear()
        self._mpv.pause = True
        self._mpv.loadfile(url, "replace", start=f"{position:.6f}")
        self._held = position
        self.loaded = self._wait_restart(timeout)
        if self.loaded:
            self.lead_in.arm(self._mpv)
            warm_up(self._mpv)
            self.loaded = self._seek_paused(position, timeout)
        return self.loaded

    def _seek_paused(self, position: float, timeout: float) -> bool:
        self._mpv.pause = True
        self.playing = False
        self._reset_fit()
        if not self.loaded:
            return False
        self._restarted.clear()
        try:
            self._mpv.seek(position, "absolute", "exact")
        except Exception as err:  # python-mpv raises plain errors (no file open, ...)
            _LOGGER.debug("Seek refused by mpv: %s", err)
            return False
        self._held = position
        if not self._wait_restart(timeout):
            return False
        self.lead_in.arm(self._mpv)
        return True

    def _start_at(self, local_t: float) -> float:
        self.lead = output_lead(self._mpv, self._held)
        self._reset_fit()
        self._accept_from = local_t + SETTLE
        self.playing = True
        if self._reader is not None:
            self._reader.resume()
        return self.lead_in.start(self._mpv, self._held, local_t, self.lead)

    def notice(self) -> float:
        """How long before its instant a start must be asked for."""
        return notice(self.lead)

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
        """Start so the held position is heard at local time local_t; return when it will be."""
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
        if (reader := self._reader) is not None:
            self._reader = None
            await loop.run_in_executor(None, reader.close)  # before a read can reach terminate
        if self._mpv is not None:
            await loop.run_in_executor(executor, self._mpv.terminate)
            self._mpv = None
        self.playing = self.loaded = False
        await loop.run_in_executor(None, executor.shutdown)
