"""Sleep timer: after N minutes the box fades out over 10 s, pauses, and gets its volume back.

The fade goes through the player (`async_set_volume`), so the cap still applies and the entity
and the event log show the volume going down. The volume setting from before the fade comes
back once the box is paused (or at once when the timer is cancelled during the fade); if someone
changes the volume during the fade, that new level is the one restored.

Pausing (or stopping) by hand does not cancel the timer: it keeps running, and a box started
again before it ends still goes to sleep on time. At the end an already paused box stays paused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
import homeassistant.util.dt as dt_util

from ..listeners import Listeners
from ..playback.player import Player

MAX_MINUTES = 720  # 12 hours
FADE_SECONDS = 10.0
FADE_STEP_SECONDS = 0.5
FADE_STEPS = round(FADE_SECONDS / FADE_STEP_SECONDS)
_CHANGED = 1e-6  # volume difference that means someone else set it during the fade


class SleepTimer:
    """One box's sleep timer."""

    def __init__(self, hass: HomeAssistant, player: Player) -> None:
        """Initialize the sleep timer."""
        self._hass = hass
        self._player = player
        self.ends_at: datetime | None = None
        self._unsub: CALLBACK_TYPE | None = None  # the pending fade start or fade step
        self._generation = 0  # bumped by every start/cancel: a late step of an old timer quits
        self._restore: float | None = None  # the volume to give back; set while fading
        self._last_set: float | None = None  # the level the fade set last
        self._step = 0
        self._listeners = Listeners[[]]()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when the timer starts or ends."""
        return self._listeners.add(listener)

    @callback
    def _notify(self) -> None:
        self._listeners.notify()

    @property
    def fading(self) -> bool:
        """Return True during the last 10 s."""
        return self._restore is not None

    async def async_set(self, minutes: int) -> None:
        """Start (or restart) the timer; 0 cancels it."""
        await self.async_cancel(notify=minutes <= 0)
        if minutes <= 0:
            return
        # Whole seconds: the end time is shown as such (sensor, clients), and is then exact.
        self._start((dt_util.utcnow() + timedelta(minutes=minutes)).replace(microsecond=0))
        self._notify()

    async def async_set_until(self, ends_at: datetime) -> None:
        """Fade out and pause at `ends_at` exactly (the daily limit), quietly."""
        await self.async_cancel(notify=False)
        self._start(ends_at)

    @callback
    def _start(self, ends_at: datetime) -> None:
        self.ends_at = ends_at
        fade_at = max(ends_at - timedelta(seconds=FADE_SECONDS), dt_util.utcnow())
        self._unsub = async_track_point_in_utc_time(self._hass, self._async_start_fade, fade_at)

    async def async_cancel(self, notify: bool = True) -> None:
        """Stop the timer; during the fade, the volume comes back at once."""
        running = self.ends_at is not None
        restore = self._reset()
        if restore is not None:
            await self._player.async_set_volume(restore)
        if running and notify:
            self._notify()

    @callback
    def _reset(self) -> float | None:
        """Forget the timer; return the volume to restore if a fade was running."""
        self._generation += 1
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        restore, self._restore, self._last_set = self._restore, None, None
        self.ends_at = None
        return restore

    @callback
    def _async_start_fade(self, _now: datetime) -> None:
        # A cancel unsubscribes the pending timer: a callback that runs is the current one.
        self._unsub = None
        self._restore = self._player.volume
        self._last_set = None
        self._step = 0
        self._schedule_step()

    @callback
    def _schedule_step(self) -> None:
        self._unsub = async_call_later(
            self._hass, FADE_STEP_SECONDS, partial(self._async_fade_step, self._generation)
        )

    async def _async_fade_step(self, generation: int, _now: datetime) -> None:
        self._unsub = None
        player, restore = self._player, self._restore
        assert restore is not None  # steps are only scheduled while fading
        if self._last_set is not None and abs(player.volume - self._last_set) > _CHANGED:
            restore = self._restore = player.volume  # set during the fade: give that one back
        self._step += 1
        if self._step >= FADE_STEPS:
            # The end: pause (a box paused or stopped by hand stays so), then the volume back.
            self._reset()
            await player.async_pause()
            await player.async_set_volume(restore)
            self._notify()
            return
        await player.async_set_volume(restore * (FADE_STEPS - self._step) / FADE_STEPS)
        if generation == self._generation:  # not cancelled while the volume was being set
            self._last_set = player.volume
            self._schedule_step()

    async def async_close(self) -> None:
        """Stop the timer as the box closes (the volume setting back as it was)."""
        await self.async_cancel()

    def diagnostics(self) -> dict[str, Any]:
        """Return the timer's state."""
        return {
            "ends_at": None if self.ends_at is None else self.ends_at.isoformat(),
            "fading": self.fading,
        }
