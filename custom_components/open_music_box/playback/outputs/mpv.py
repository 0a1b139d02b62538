"""Play on the Home Assistant host through libmpv (python-mpv).

libmpv calls run on one dedicated worker thread: they may block (loading a file takes the core
lock), and one thread keeps commands in the order the player sent them. mpv reports events on
its own thread; they reach the event loop through `call_soon_threadsafe`.

mpv's playlist holds at most the current entry and the prepared next one, so mpv plays the
transition gaplessly while the player keeps the queue. Entry ids tell a natural advance apart
from our own loads.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
import logging
import threading
import time
from typing import Any

from homeassistant.core import HomeAssistant

from ...const import AUDIO_DEVICE_AUTO
from ...models import Track
from ..heap import fix_mmap_threshold
from ..mpv_loader import load_mpv
from .base import OutputError, OutputEvent, OutputEventType, OutputListener

# No RESTARTED events from mpv: it does exactly what it is told, so the player's anchors taken
# at command time are right, while a late playback-restart of an earlier load could undo a seek.

_LOGGER = logging.getLogger(__name__)

# A short silence played once at start: tells whether the audio device can be opened at all.
PROBE_SOURCE = "av://lavfi:anullsrc=d=0.02"
PROBE_TIMEOUT_SECONDS = 5.0
# mpv refuses a seek until the file is open; a seek right after a load waits this long at most.
LOAD_TIMEOUT_SECONDS = 5.0
SEEK_RETRY_SECONDS = 0.02
AO_INIT_FAILED = b"audio output initialization failed"


class MpvOutput:
    """One libmpv instance playing on an audio device of the host."""

    # Off: each prefetch opened the next file on a new thread whose ~10 MB of buffers glibc
    # kept in that thread's arena after the free (RSS +10 MB steps over a playback soak,
    # bench/bench_soak.py). A local file opens in milliseconds, well within the audio buffer,
    # so the transition stays gapless without it.
    prefetch_playlist = False

    def __init__(self, hass: HomeAssistant, audio_device: str) -> None:
        """Initialize the mpv output."""
        self._hass = hass
        self.audio_device = audio_device
        self.null_fallback = False
        self._executor: ThreadPoolExecutor | None = None
        self._player: Any = None
        self._listener: OutputListener | None = None
        self._ids_lock = threading.Lock()
        self._current_id: int | None = None
        self._next_id: int | None = None
        self._paths: dict[int, str] = {}  # entry id -> path of the current and next entries
        self._finishing = False
        self._closing = False
        self._file_loaded = threading.Event()
        # Cleared by a load or a seek until mpv's playback-restart: until then time-pos still
        # reports the old position, so the position is unknown (the player uses its anchor).
        self._settled = threading.Event()
        self.mpv_version: str | None = None

    @property
    def mpv(self) -> Any:
        """Return the python-mpv handle (diagnostics and tests)."""
        return self._player

    # Threads -----------------------------------------------------------------

    async def _run(self, func: Any, *args: Any) -> Any:
        """Run a libmpv call on the worker thread; mpv errors become OutputError."""
        if self._executor is None:
            raise OutputError("mpv output is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        except OutputError:
            raise
        except Exception as err:  # python-mpv raises plain and mpv-specific errors alike
            raise OutputError(f"mpv: {err}") from err

    def _emit(self, event: OutputEvent) -> None:
        """From any thread: deliver an event in the event loop."""
        if self._listener is not None and not self._closing:
            with suppress(RuntimeError):  # the loop is closed: Home Assistant is stopping
                self._hass.loop.call_soon_threadsafe(self._listener, event)

    # Opening -----------------------------------------------------------------

    async def async_start(self, listener: OutputListener) -> None:
        """Load libmpv, open the device (null output when it has no sound card)."""
        self._listener = listener
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open_music_box_mpv")
        await self._run(self._open)

    def _open(self) -> None:
        # libmpv's loads grew RSS ~10 MB a track without it, in a box and in a room (heap.py).
        fix_mmap_threshold()
        mpv = load_mpv()
        player = self._create(mpv, ao=None)
        if not self._device_works(player):
            player.terminate()
            _LOGGER.warning(
                "Audio device %r cannot be opened (no sound card?): playing to mpv's null output, "
                "so nothing is heard",
                self.audio_device,
            )
            self.null_fallback = True
            player = self._create(mpv, ao="null")
        player.register_event_callback(self._on_mpv_event)
        self.mpv_version = str(player.mpv_version)
        self._player = player

    def _create(self, mpv: Any, ao: str | None) -> Any:
        options: dict[str, Any] = {
            "vo": "null",
            "video": False,
            "idle": True,
            "gapless_audio": "weak",
            "prefetch_playlist": self.prefetch_playlist,
            "input_default_bindings": False,
            "ytdl": False,
            "audio_display": False,
        }
        if ao is not None:
            options["ao"] = ao
        elif self.audio_device != AUDIO_DEVICE_AUTO:
            options["audio_device"] = self.audio_device
        return mpv.MPV(**options)

    @staticmethod
    def _device_works(player: Any) -> bool:
        ended = threading.Event()
        result: dict[str, Any] = {}

        def on_event(event: Any) -> None:
            data = event.as_dict()
            if data.get("event") == b"end-file":
                result.update(data)
                ended.set()

        player.register_event_callback(on_event)
        try:
            player.loadfile(PROBE_SOURCE)
            ended.wait(PROBE_TIMEOUT_SECONDS)
        finally:
            player.unregister_event_callback(on_event)
        return result.get("file_error") != AO_INIT_FAILED

    async def async_close(self) -> None:
        """Terminate libmpv (off the loop: it joins mpv's event thread)."""
        self._closing = True
        # Taken at once: a second close (unload racing HA's stop) finds nothing left to do.
        executor, self._executor = self._executor, None
        player, self._player = self._player, None
        if executor is None:
            return
        if player is not None:
            await asyncio.get_running_loop().run_in_executor(executor, player.terminate)
        # Joined off the loop, so no worker thread outlives the entry.
        await self._hass.async_add_executor_job(executor.shutdown)
        # A close during the open (recovery, start): the open finished on the worker after the
        # handle was taken above; terminate the handle it made.
        if (late := self._player) is not None:
            self._player = None
            await self._hass.async_add_executor_job(late.terminate)

    # mpv's thread -----------------------------------------------------------------

    def _on_mpv_event(self, event: Any) -> None:
        data = event.as_dict()
        kind = data.get("event")
        entry_id = data.get("playlist_entry_id")
        if kind == b"file-loaded":
            self._file_loaded.set()
        elif kind == b"start-file":
            self._file_loaded.clear()
            with self._ids_lock:
                advanced = entry_id is not None and entry_id == self._next_id
                if advanced:
                    self._current_id, self._next_id = entry_id, None
                    self._finishing = False
                    self._paths = {k: v for k, v in self._paths.items() if k == entry_id}
            executor = self._executor  # read once: a close may take it meanwhile
            if advanced and executor is not None and not self._closing:
                # Drop the finished entry so mpv's list stays [current, next]. The close may
                # have shut the worker down since: then there is nothing left to tidy.
                with suppress(RuntimeError):
                    executor.submit(self._drop_played)
                self._emit(OutputEvent(OutputEventType.ADVANCED))
        elif kind == b"end-file":
            reason = data.get("reason")
            with self._ids_lock:
                if entry_id == self._current_id and reason in (b"eof", b"error"):
                    self._finishing = self._next_id is None
                path = self._paths.get(entry_id) if reason == b"error" else None
            if path is not None:
                # mpv could not open or decode it and moves on: the player reports the skip.
                error = data.get("file_error") or b"error"
                self._emit(
                    OutputEvent(
                        OutputEventType.FAILED, path=path, error=error.decode(errors="replace")
                    )
                )
        elif kind == b"idle":
            with self._ids_lock:
                finished, self._finishing = self._finishing, False
                if finished:
                    self._current_id = None
            if finished:
                self._emit(OutputEvent(OutputEventType.END))
        elif kind == b"playback-restart":
            self._settled.set()
        elif kind == b"shutdown" and not self._closing:
            # DEBUG: output_recovery logs the loss once (INFO), and its return.
            _LOGGER.debug("mpv shut down unexpectedly")
            self._emit(OutputEvent(OutputEventType.DIED))

    def _read_position(self) -> float | None:
        if not self._settled.is_set():
            return None
        try:
            position = self._player.time_pos
        except Exception:  # noqa: BLE001 - python-mpv raises plain errors while mpv shuts down
            return None
        return None if position is None else float(position)

    # Worker thread -----------------------------------------------------------------

    def _drop_played(self) -> None:
        player = self._player
        while (player.playlist_pos or 0) > 0:
            player.command("playlist-remove", 0)

    def _entry_id(self, index: int) -> int | None:
        entries = self._player.playlist  # each entry has its id (mpv >= 0.33)
        if index < 0 or index >= len(entries):
            return None
        return int(entries[index]["id"])

    def _load(self, path: str, position: float, paused: bool, next_path: str | None) -> None:
        player = self._player
        player.pause = paused
        with self._ids_lock:
            self._finishing = False
            self._file_loaded.clear()
            self._settled.clear()
            player.loadfile(path, "replace", start=f"{position:.3f}")
            self._current_id = self._entry_id(0)
            self._next_id = None
            self._paths = {} if self._current_id is None else {self._current_id: path}
            if next_path is not None:
                player.loadfile(next_path, "append")
                self._next_id = self._entry_id(1)
                if self._next_id is not None:
                    self._paths[self._next_id] = next_path

    def _set_next(self, next_path: str | None) -> None:
        player = self._player
        with self._ids_lock:
            current = player.playlist_pos
            if current is None or current < 0:
                return
            while player.playlist_count > current + 1:
                player.command("playlist-remove", current + 1)
            self._next_id = None
            self._paths = {k: v for k, v in self._paths.items() if k == self._current_id}
            if next_path is not None:
                player.loadfile(next_path, "append")
                self._next_id = self._entry_id(current + 1)
                if self._next_id is not None:
                    self._paths[self._next_id] = next_path

    def _stop(self) -> None:
        with self._ids_lock:
            self._current_id = self._next_id = None
            self._paths = {}
            self._finishing = False
            self._player.command("stop")

    def _seek(self, position: float) -> None:
        self._file_loaded.wait(LOAD_TIMEOUT_SECONDS)
        self._settled.clear()
        # A late file-loaded of the previous file can let us in before mpv accepts the seek.
        deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
        while True:
            try:
                self._player.seek(position, "absolute", "exact")
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(SEEK_RETRY_SECONDS)  # the worker thread, never the event loop
            else:
                return

    def _set(self, name: str, value: Any) -> None:
        setattr(self._player, name, value)

    # Output protocol -----------------------------------------------------------------

    async def async_load(
        self, track: Track, position: float, paused: bool, next_track: Track | None
    ) -> None:
        """Play `track` at `position`, with `next_track` prepared for a gapless transition."""
        await self._run(
            self._load, track.path, position, paused, next_track.path if next_track else None
        )

    async def async_set_next(self, track: Track | None) -> None:
        """Replace the prepared next entry."""
        await self._run(self._set_next, track.path if track else None)

    async def async_play(self) -> None:
        """Resume."""
        await self._run(self._set, "pause", False)

    async def async_pause(self) -> None:
        """Pause."""
        await self._run(self._set, "pause", True)

    async def async_stop(self) -> None:
        """Stop and clear mpv's playlist."""
        await self._run(self._stop)

    async def async_seek(self, position: float) -> None:
        """Exact seek: audiobooks resume where they were, not at a keyframe."""
        await self._run(self._seek, position)

    async def async_set_volume(self, level: float) -> None:
        """Set mpv's volume (0..100)."""
        await self._run(self._set, "volume", round(level * 100, 1))

    async def async_set_mute(self, muted: bool) -> None:
        """Mute or unmute."""
        await self._run(self._set, "mute", muted)

    async def async_get_position(self) -> float | None:
        """Read mpv's playback position."""
        return await self._run(self._read_position)  # type: ignore[no-any-return]

    def diagnostics(self) -> dict[str, Any]:
        """Describe the output."""
        return {
            "type": "mpv",
            "audio_device": self.audio_device,
            "null_fallback": self.null_fallback,
            "mpv_version": self.mpv_version,
        }
