"""Load python-mpv lazily: libmpv may be absent (HA OS) and that must never crash a setup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
import importlib
import logging
import re
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..const import AUDIO_DEVICE_AUTO
from .outputs.base import OutputError

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)


class LibmpvMissingError(OutputError):
    """libmpv (or python-mpv) cannot be loaded on this host."""


def load_mpv() -> ModuleType:
    """Import python-mpv, which loads libmpv through ctypes. Blocking: call from the executor.

    Not cached here: sys.modules already caches a success, and a failure must be retried
    after the user installs libmpv.
    """
    try:
        return importlib.import_module("mpv")
    except (OSError, ImportError) as err:
        raise LibmpvMissingError(str(err)) from err


def list_audio_devices() -> dict[str, str]:
    """Return mpv's audio devices as {name: description}. Blocking: call from the executor."""
    mpv = load_mpv()
    player: Any = mpv.MPV(ao="null", vo="null", video=False, idle=True)
    try:
        devices: list[dict[str, str]] = player.audio_device_list or []
    finally:
        player.terminate()
    return {dev["name"]: dev.get("description") or dev["name"] for dev in devices}


# ALSA's plugins that mpv lists as devices: converters and helpers, not outputs a person picks.
_PLUGIN_NAMES = re.compile(
    r"^alsa/(lavrate|samplerate|speexrate|speex|upmix|vdownmix|null|jack|oss|pulse|pipewire)"
    r"(_\w+)?$"
)
_PLUGIN_DESCRIPTIONS = re.compile(
    r"^(Rate Converter Plugin|Plugin for channel|Plugin using Speex|Discard all samples"
    r"|JACK Audio Connection Kit|Open Sound System)",
    re.IGNORECASE,
)


def device_labels(devices: dict[str, str], keep: Iterable[str] = ()) -> dict[str, str]:
    """Return {name: label} to offer: the automatic device first, ALSA plugins left out.

    Labels are mpv's descriptions on one line; two devices with the same description are told
    apart by their name. Devices in `keep` (already chosen) stay even if they look like noise.
    """
    kept = set(keep)
    offered = {
        name: ", ".join(line.strip() for line in (label or name).splitlines() if line.strip())
        for name, label in devices.items()
        if name in kept
        or not (_PLUGIN_NAMES.match(name) or _PLUGIN_DESCRIPTIONS.match(label or ""))
    }
    counts = Counter(offered.values())
    labels = {
        name: f"{label} ({name})" if counts[label] > 1 else label for name, label in offered.items()
    }
    if AUDIO_DEVICE_AUTO in labels:
        labels = {AUDIO_DEVICE_AUTO: labels.pop(AUDIO_DEVICE_AUTO), **labels}
    return labels


class AudioDeviceProbe:
    """mpv's audio devices, listed once per config flow (None: libmpv is missing)."""

    def __init__(self) -> None:
        """Initialize the audio device probe."""
        self._probed = False
        self._devices: dict[str, str] | None = None

    async def async_probe(self, hass: HomeAssistant) -> dict[str, str] | None:
        """Load libmpv and list the devices on the first call (both blocking: the executor)."""
        if not self._probed:
            self._probed = True
            try:
                self._devices = await hass.async_add_executor_job(list_audio_devices)
            except LibmpvMissingError:
                self._devices = None
        return self._devices
