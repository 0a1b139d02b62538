"""When the output dies: the retries of its replacement, and what the log says about it.

The quality scale's log-when-unavailable: one INFO line when the output goes, one when it is
back; the retries every RECOVERY_DELAY_SECONDS in between log at DEBUG only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .outputs.base import OutputError

_LOGGER = logging.getLogger(__name__)

RECOVERY_DELAY_SECONDS = 5.0


class OutputRecovery:
    """Tracks one lost output until it is back; schedules `retry` while it is not."""

    def __init__(self, hass: HomeAssistant, retry: Callable[[], object]) -> None:
        """Initialize the output recovery."""
        self._hass = hass
        self._retry = retry
        self._down = False
        self._failures = 0
        self._cancel: Callable[[], None] | None = None

    @callback
    def lost(self) -> None:
        """Start a try; the first one of a loss says so."""
        self._cancel = None
        if not self._down:
            self._down = True
            self._failures = 0
            _LOGGER.info("Audio output stopped unexpectedly; restarting it")

    @callback
    def back(self) -> None:
        """Say the new output works."""
        self._down = False
        _LOGGER.info("Audio output is back")

    @callback
    def failed(self, err: OutputError) -> None:
        """Retry later: the first failure logs at INFO, the next ones at DEBUG."""
        self._failures += 1
        _LOGGER.log(
            logging.INFO if self._failures == 1 else logging.DEBUG,
            "Cannot restart the audio output: %s; retrying every %s s",
            err,
            RECOVERY_DELAY_SECONDS,
        )
        self._cancel = async_call_later(self._hass, RECOVERY_DELAY_SECONDS, self._call_retry)

    @callback
    def cancel(self) -> None:
        """Stop retrying (the player closes)."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    @callback
    def _call_retry(self, _now: datetime) -> None:
        self._cancel = None
        self._retry()
