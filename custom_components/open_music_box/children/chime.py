"""The refusal chime: a short soft sound when a tag is refused, without touching what plays.

The chime plays on its own short-lived libmpv instance opened on the same audio device, never
through the box's player: the queue, the state (playing, paused) and an audiobook's resume point
stay as they were. A device that cannot be opened a second time (a bare ALSA card, no sound server)
plays it to mpv's null output: not heard, but logged. One chime at a time per box: a child scanning
again and again hears one.
HA media players (a box's entity output, a room's players) and satellites get no chime: their
play_media would replace what they play.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from pathlib import Path
import threading
from typing import Any

from homeassistant.core import HomeAssistant

from ..const import AUDIO_DEVICE_AUTO
from ..playback.mpv_loader import load_mpv
from ..playback.outputs.mpv import AO_INIT_FAILED

_LOGGER = logging.getLogger(__name__)

CHIME_FILE = Path(__file__).parent / "sounds" / "refused.wav"  # script/make_chime.py
END_TIMEOUT_SECONDS = 5.0
MAX_HISTORY = 10


@dataclass(frozen=True, slots=True)
class ChimePlay:
    """One chime as mpv reported it: what it loaded, where, and how it ended."""

    device: str
    path: str
    ao: str  # "device" or "null" (the device could not be opened)
    end: str  # mpv's end-file reason: "eof" when it played to the end


def _play_once(device: str, volume: float, null: bool) -> dict[str, Any]:
    """Play the chime to its end on a new mpv instance (blocking: the executor)."""
    mpv = load_mpv()
    options: dict[str, Any] = {"vo": "null", "video": False, "idle": True, "ytdl": False}
    if null:
        options["ao"] = "null"
    elif device != AUDIO_DEVICE_AUTO:
        options["audio_device"] = device
    player: Any = mpv.MPV(**options)
    ended = threading.Event()
    result: dict[str, Any] = {}

    def on_event(event: Any) -> None:
        data = event.as_dict()
        if data.get("event") == b"file-loaded":
            result["path"] = str(player.path)
        elif data.get("event") == b"end-file":
            result.update(data)
            ended.set()

    try:
        player.register_event_callback(on_event)
        player.volume = round(volume * 100)
        player.loadfile(str(CHIME_FILE))
        ended.wait(END_TIMEOUT_SECONDS)
    finally:
        player.terminate()
    return result


def _play(device: str, volume: float) -> ChimePlay:
    result = _play_once(device, volume, null=False)
    ao = "device"
    if result.get("file_error") == AO_INIT_FAILED:
        result, ao = _play_once(device, volume, null=True), "null"
    reason = result.get("reason")
    end = reason.decode() if isinstance(reason, bytes) else "timeout"
    return ChimePlay(device, str(result.get("path", "")), ao, end)


class Chime:
    """Plays the refusal chime on mpv audio devices; remembers the last plays (diagnostics)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._lock = asyncio.Lock()
        self.history: list[ChimePlay] = []

    async def async_play(self, devices: list[str], volume: float) -> None:
        """Play the chime on each device at `volume` (0..1); skipped while one still plays."""
        if self._lock.locked() or not devices or volume <= 0:
            return
        async with self._lock:
            for device in devices:
                try:
                    played = await self._hass.async_add_executor_job(_play, device, volume)
                except Exception as err:  # noqa: BLE001 - python-mpv raises plain errors too
                    _LOGGER.warning("Cannot play the refusal chime on %s: %s", device, err)
                    continue
                self.history = [*self.history, played][-MAX_HISTORY:]
                if played.ao == "null":
                    _LOGGER.info("The refusal chime could not open %s (in use?): not heard", device)

    def diagnostics(self) -> dict[str, Any]:
        """Return how many chimes played and how the last one ended."""
        last = self.history[-1] if self.history else None
        return {
            "played": len(self.history),
            "last": None if last is None else {"ao": last.ao, "end": last.end},
        }
