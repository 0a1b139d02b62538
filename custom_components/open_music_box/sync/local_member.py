"""A room member playing through another libmpv instance on an audio device of this host.

The position is measured from mpv's `audio-pts`, read and dated on a thread of its own
(sync/ptsreader.py: notifications are dated late whenever the event loop holds the GIL) and
fitted with a line in the event loop.

Measured at the sound output (bench/bench_sync_output.py), an unpause is not a start: the audio
output starts anew and the first 2-4 ms are lost, and an unpaused stream is heard at its
output's next request, 0-20 ms after the instant. So the output never stops (mpv plays silence
while paused, `audio-stream-silence`), and a start is made exact by a silent lead-in trimmed
after the unpause (sync/leadin.py), on the mpv worker thread, never the loop.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from homeassistant.core import HomeAssistant, callback

from ..models import Track
from ..playback.outputs.base import OutputError, OutputEvent, OutputEventType
from ..playback.outputs.mpv import LOAD_TIMEOUT_SECONDS, MpvOutput
from .leadin import LeadIn, notice, output_lead, warm_up
from .linefit import LineFit
from .member import Member, MemberNotReady
from .ptsreader import PtsReader, exact_pulse_latency
from .timeline import Timeline, server_time

LATE_SPARE_SECONDS = 0.15  # a late start aims this far past the notice it needs
SETTLE_SECONDS = 0.05  # pts reported right after the start instant still describe the lead-in


class SyncedMpv(MpvOutput):
    """An mpv output that also reports timestamped `audio-pts` and starts at a given instant."""

    # As measured by the sync tests and bench (a member loads one file at a time, so no
    # prefetch thread is started; without it, held positions after a seek differed more).
    prefetch_playlist = True

    def __init__(self, hass: HomeAssistant, audio_device: str) -> None:
        """Initialize the synced mpv."""
        super().__init__(hass, audio_device)
        self.fit = LineFit()
        self._accept_from = float("inf")  # samples before this instant are not on the line
        self.loaded_path: str | None = None
        self.lead = 0.0  # the output buffer queued ahead of the position, read while paused
        self._held = 0.0  # the position held paused
        self._silence = False  # the output plays silence while paused
        self.lead_in = LeadIn()
        self._reader: PtsReader | None = None

    def _create(self, mpv: Any, ao: str | None) -> Any:
        player = super()._create(mpv, ao)
        # The speed trim would otherwise go through a time-stretch filter with its own latency.
        player.audio_pitch_correction = False
        exact_pulse_latency(player)
        # A real device only (libmpv 0.35's null output can assert on it; "null..." devices
        # select that output too).
        self._silence = ao is None and not self.audio_device.startswith("null")
        # Paused, the output plays silence: an unpause starts no device (nothing skipped).
        player.audio_stream_silence = self._silence
        return player

    async def async_start_measuring(self) -> None:
        """Start the audio-pts reader (once, after the output is open); it reads once started."""
        self._reader = PtsReader(self._read_pts, self._on_read, "open_music_box_pts")

    def _read_pts(self) -> float | None:
        player = self._player
        value = None if player is None else player.audio_pts  # None while unavailable
        return None if value is None else float(value)

    def _on_read(self, stamp: float, pts: float) -> None:
        # The reader's thread: the dated read hops into the loop.
        if not self._closing:
            with suppress(RuntimeError):  # the loop is closed: Home Assistant is stopping
                self._hass.loop.call_soon_threadsafe(self._add_sample, stamp, pts)

    @callback
    def _add_sample(self, stamp: float, pts: float) -> None:
        if stamp >= self._accept_from:
            self.fit.add(stamp, self.lead_in.position(pts))

    @callback
    def stop_measuring(self) -> None:
        """Forget the line until the next start (pause, seek, load)."""
        self._accept_from = float("inf")
        self.fit.reset()
        if self._reader is not None:
            self._reader.pause()

    async def async_hold(self, path: str, position: float) -> float | None:
        """Hold `path` paused at `position` (reload only for a new file); return its duration."""
        self.stop_measuring()
        return await self._run(self._hold, path, position)  # type: ignore[no-any-return]

    def _hold(self, path: str, position: float) -> float | None:
        self._player.pause = True
        loading = path != self.loaded_path or not self._file_loaded.is_set()
        if loading:
            self._load(path, position, True, None)
            self.loaded_path = path
        else:
            self._seek(position)
        self._wait_settled(path, position)
        self.lead_in.arm(self._player)
        if loading:
            warm_up(self._player)
            self._seek(position)
            self._wait_settled(path, position)
            self.lead_in.arm(self._player)
        self._held = position
        duration = self._player.duration
        return None if duration is None else float(duration)

    def _wait_settled(self, path: str, position: float) -> None:
        if not self._settled.wait(LOAD_TIMEOUT_SECONDS):
            raise OutputError(f"mpv did not get ready at {position:.3f} s of {path}")

    async def async_start_at(self, instant: float) -> None:
        """Start so that the held position is heard at monotonic `instant` (worker thread)."""
        self._accept_from = instant + SETTLE_SECONDS
        await self._run(self._start_at, instant)
        if self._reader is not None:
            self._reader.resume()

    def _start_at(self, instant: float) -> None:
        self.lead = output_lead(self._player, self._held)
        self.lead_in.start(self._player, self._held, instant, self.lead)

    def notice(self) -> float:
        """How long before its instant a start must be asked for."""
        return notice(self.lead)

    async def async_set_speed(self, speed: float) -> None:
        """Trim the speed."""
        await self._run(self._set, "speed", speed)

    async def async_close(self) -> None:
        """Stop the reader first: a read of a terminated player would crash libmpv."""
        self._closing = True
        if (reader := self._reader) is not None:
            self._reader = None
            await self._hass.async_add_executor_job(reader.close)
        await super().async_close()


class LocalMember(Member):
    """Another mpv instance of this host, on its own audio device."""

    kind = "local"

    def __init__(self, hass: HomeAssistant, audio_device: str, offset_ms: float) -> None:
        """Initialize the local member."""
        super().__init__(f"local:{audio_device}", audio_device, offset_ms)
        self.mpv = SyncedMpv(hass, audio_device)
        self._opened = False

    async def async_open(self) -> None:
        """Open libmpv on the device (null output when it has no sound card)."""
        try:
            await self.mpv.async_start(self._on_event)
            await self.mpv.async_start_measuring()
        except OutputError as err:
            raise MemberNotReady(str(err)) from err
        self._opened = True

    @callback
    def _on_event(self, event: OutputEvent) -> None:
        """Pass on a track mpv could not decode; the room keeps the queue (other events)."""
        if event.type is OutputEventType.FAILED and event.path is not None:
            self.on_failed(event.path, event.error or "error")

    async def async_close(self) -> None:
        """Terminate libmpv."""
        self._opened = False
        await self.mpv.async_close()

    @property
    def available(self) -> bool:
        """Return True once libmpv is open."""
        return self._opened

    async def async_prepare(self, generation: int, track: Track, position: float) -> None:
        """Load or seek, paused, and wait for mpv's playback-restart."""
        self.generation = generation
        self.controller.reset()
        try:
            await self.mpv.async_set_speed(self.controller.speed)
            self.duration = await self.mpv.async_hold(track.path, max(0.0, position))
        except OutputError as err:
            raise MemberNotReady(str(err)) from err

    async def async_start(self, generation: int, timeline: Timeline) -> None:
        """Start at the timeline's instant, or late: seek to where the room will be, then start."""
        if generation != self.generation or self.mpv.loaded_path is None:
            return
        instant = timeline.server_time
        if instant < server_time() + self.mpv.notice():
            instant = server_time() + self.mpv.notice() + LATE_SPARE_SECONDS
            self.seeks += 1
            self.controller.reset()
            await self.mpv.async_set_speed(self.controller.speed)
            await self.mpv.async_hold(self.mpv.loaded_path, timeline.position_at(instant))
            if generation != self.generation:
                return
        await self.mpv.async_start_at(instant)

    async def async_pause(self, generation: int, position: float) -> None:
        """Pause and seek exactly to the room's position."""
        self.generation = generation
        self.controller.reset()
        self.mpv.stop_measuring()
        await self.mpv.async_pause()
        if self.mpv.loaded_path is not None:
            await self.mpv.async_set_speed(self.controller.speed)
            await self.mpv.async_hold(self.mpv.loaded_path, max(0.0, position))

    async def async_stop(self) -> None:
        """Stop and forget the file."""
        self.generation += 1
        self.mpv.stop_measuring()
        self.mpv.loaded_path = None
        await self.mpv.async_stop()

    async def async_set_speed(self, speed: float) -> None:
        """Trim the speed."""
        await self.mpv.async_set_speed(speed)

    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Set mpv's volume and mute."""
        await self.mpv.async_set_volume(volume)
        await self.mpv.async_set_mute(muted)

    def measure(self, now: float) -> tuple[float, float] | None:
        """Return the fitted audio-pts now (server time is this host's monotonic clock)."""
        position = self.mpv.fit.value_at(now)
        return None if position is None else (now, position)

    def diagnostics(self) -> dict[str, Any]:
        """Add the mpv output's details."""
        return {**super().diagnostics(), "output": self.mpv.diagnostics()}
