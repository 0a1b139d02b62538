"""Load python-mpv lazily: libmpv may be absent (HA OS) and that must never crash a setup."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

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


class AudioDeviceProbe:
    """mpv's audio devices, listed once per config flow (None: libmpv is missing)."""

    def __init__(self) -> None:
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
