"""The refusal chime: a short soft sound when a tag is refused, without touching what plays.

The chime plays on its own short-lived libmpv instance opened on the same audio device, never
through the box's player: the queue, the state (playing, paused) and an audiobook's resume point
stay as they were. A device that cannot be opened a second time (a bare ALSA card, no sound server)
plays it to mpv's null output: not heard, but logged. One chime at a time per box: a child scanning
again and again hears one.
A box playing through another media player (the entity output) chimes there only while the box
plays nothing (its output then ignores the target's states): as an announcement when the target
can (it resumes what it held), otherwise only when the target plays or holds nothing either.
A room's HA players and satellites get no chime: their play_media would replace what they play.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from pathlib import Path
import threading
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_ANNOUNCE,
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
    async_process_play_media_url,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_SUPPORTED_FEATURES
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..const import AUDIO_DEVICE_AUTO, DOMAIN
from ..playback.mpv_loader import load_mpv
from ..playback.outputs.mpv import AO_INIT_FAILED

_LOGGER = logging.getLogger(__name__)

CHIME_FILE = Path(__file__).parent / "sounds" / "refused.wav"  # script/make_chime.py
CHIME_URL_PATH = f"/api/{DOMAIN}/sounds/refused.wav"  # http_view.py: for the entity output
_BUSY = (MediaPlayerState.PLAYING, MediaPlayerState.PAUSED, MediaPlayerState.BUFFERING)
END_TIMEOUT_SECONDS = 5.0
MAX_HISTORY = 10


@dataclass(frozen=True, slots=True)
class ChimeTarget:
    """Where a refusal chimes: mpv audio devices, or the idle box's target media player."""

    devices: list[str]
    volume: float  # 0..1, the box's (or room's) volume now
    entity_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChimePlay:
    """One chime as mpv reported it: what it loaded, where, and how it ended."""

    device: str
    path: str
    ao: str  # "device", "null" (the device could not be opened) or "entity" (play_media)
    end: str  # mpv's end-file reason: "eof" when it played to the end; "sent" for an entity


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
        """Initialize the chime."""
        self._hass = hass
        self._lock = asyncio.Lock()
        self.history: list[ChimePlay] = []

    async def async_play(self, target: ChimeTarget) -> None:
        """Play the chime on each device at the volume (0..1); skipped while one still plays."""
        if self._lock.locked() or target.volume <= 0:
            return
        async with self._lock:
            if target.entity_id is not None:
                await self._async_play_entity(target.entity_id)
            for device in target.devices:
                try:
                    played = await self._hass.async_add_executor_job(_play, device, target.volume)
                except Exception as err:  # noqa: BLE001 - python-mpv raises plain errors too
                    _LOGGER.warning("Cannot play the refusal chime on %s: %s", device, err)
                    continue
                self.history = [*self.history, played][-MAX_HISTORY:]
                if played.ao == "null":
                    _LOGGER.info("The refusal chime could not open %s (in use?): not heard", device)

    async def _async_play_entity(self, entity_id: str) -> None:
        state = self._hass.states.get(entity_id)
        if state is None:
            return
        features = int(state.attributes.get(ATTR_SUPPORTED_FEATURES, 0))
        announce = bool(features & MediaPlayerEntityFeature.MEDIA_ANNOUNCE)
        if not announce and state.state in _BUSY:
            return  # it plays something else: the chime would replace it
        url = async_process_play_media_url(self._hass, CHIME_URL_PATH)
        data: dict[str, Any] = {
            ATTR_ENTITY_ID: entity_id,
            ATTR_MEDIA_CONTENT_ID: url,
            ATTR_MEDIA_CONTENT_TYPE: MediaType.MUSIC,
        }
        if announce:
            data[ATTR_MEDIA_ANNOUNCE] = True
        try:
            await self._hass.services.async_call(MP_DOMAIN, SERVICE_PLAY_MEDIA, data, blocking=True)
        except HomeAssistantError as err:
            _LOGGER.warning("Cannot play the refusal chime on %s: %s", entity_id, err)
            return
        self.history = [*self.history, ChimePlay(entity_id, url, "entity", "sent")][-MAX_HISTORY:]

    def diagnostics(self) -> dict[str, Any]:
        """Return how many chimes played and how the last one ended."""
        last = self.history[-1] if self.history else None
        return {
            "played": len(self.history),
            "last": None if last is None else {"ao": last.ao, "end": last.end},
        }
