"""Daily listening limit: so many minutes a day per box, then the box fades out and pauses.

Listening time is wall time while the box or one of its rooms plays (two at once count once). It is
stored (a restart keeps it) and starts again from 0 at midnight, local time. Once the limit is
reached the box pauses, tags are refused and whatever starts again is paused, until the next day
or until a parent grants extra minutes (action `grant_extra_minutes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_change,
    async_track_time_interval,
)
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..listeners import Listeners
from ..notices import async_translate
from ..playback.player import Player, PlayState
from ..storage import BoxStore, StoredDailyLimit
from .const import CONF_DAILY_LIMIT, DEFAULT_DAILY_LIMIT, EVENT_LIMIT_REACHED
from .sleep_timer import SleepTimer

_LOGGER = logging.getLogger(__name__)

SAVE_INTERVAL = timedelta(minutes=1)  # what a crash may lose, and how often the sensor moves
_TOLERANCE = 1.0  # seconds: the fade's pause may come a moment before the exact minute
_SAME_END = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class DailyLimitLinks:
    """What the daily limit works with, not the whole box."""

    entry: ConfigEntry  # the limit option, the box's name, the tasks' owner
    store: BoxStore  # today's listening ("daily_limit")
    player: Player  # the box's own player: the one that fades out
    fire: Callable[[str, dict[str, Any]], None]  # the box's events (limit reached)


class DailyLimit:
    """One box's listening time today and its limit."""

    def __init__(self, hass: HomeAssistant, links: DailyLimitLinks) -> None:
        """Initialize the daily limit."""
        self._hass = hass
        self._entry = links.entry
        self._store = links.store
        self._player = links.player
        self._fire = links.fire
        self._players: list[Player] = []
        self._since: datetime | None = None  # playing since (counted up to here)
        self._reach_unsub: CALLBACK_TYPE | None = None
        self._fader = SleepTimer(hass, links.player)
        self._unsubs: list[Callable[[], None]] = []
        self._listeners = Listeners[[]]()

    # Stored data -----------------------------------------------------------------

    @property
    def _data(self) -> StoredDailyLimit:
        data = self._store.data.get("daily_limit")
        today = dt_util.now().date().isoformat()
        if data is None or data["date"] != today:
            data = {"date": today, "seconds": 0.0, "extra_minutes": 0, "reached": False}
            self._store.data["daily_limit"] = data
        return data

    @property
    def minutes(self) -> int:
        """Return the limit set in the options (0: none)."""
        return int(self._entry.options.get(CONF_DAILY_LIMIT, DEFAULT_DAILY_LIMIT))

    @property
    def limit_seconds(self) -> float | None:
        """Return today's limit with the extra minutes, or None when there is no limit."""
        if self.minutes <= 0:
            return None
        return (self.minutes + self._data["extra_minutes"]) * 60.0

    @property
    def reached(self) -> bool:
        """Return True when the limit is reached (nothing plays until tomorrow or extra time)."""
        return self.minutes > 0 and self._data["reached"]

    def listened_seconds(self) -> float:
        """Return the seconds listened today, the current play included."""
        seconds = self._data["seconds"]
        if self._since is not None:
            seconds += max(0.0, (dt_util.utcnow() - self._since).total_seconds())
        return seconds

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self, players: list[Player]) -> None:
        """Follow the box's players (the box's and its rooms')."""
        self._players = players
        self._unsubs += [player.async_add_listener(self._on_player) for player in players]
        self._unsubs += [
            async_track_time_change(self._hass, self._on_midnight, hour=0, minute=0, second=0),
            async_track_time_interval(
                self._hass, self._on_interval, SAVE_INTERVAL, name=f"{DOMAIN} daily limit"
            ),
        ]
        self._on_player()

    async def async_close(self) -> None:
        """Count up to now and stop following."""
        self._count()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._cancel_reach()
        await self._fader.async_cancel(notify=False)

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when the time listened or the limit changes."""
        return self._listeners.add(listener)

    # Counting -----------------------------------------------------------------

    @property
    def _playing(self) -> bool:
        return any(player.state is PlayState.PLAYING for player in self._players)

    @callback
    def _count(self) -> None:
        """Add the time played since the last count to today's."""
        if self._since is None:
            return
        now = dt_util.utcnow()
        self._data["seconds"] = round(self.listened_seconds(), 1)
        self._since = now
        self._store.schedule_save()

    @callback
    def _on_player(self) -> None:
        playing = self._playing
        if playing == (self._since is not None):
            return  # volume, position, the fade's steps: not a start or a stop
        self._count()
        self._since = dt_util.utcnow() if playing else None
        if playing and self.reached:
            self._pause_all()  # started again after the limit: paused again
            return
        self._check()
        self._listeners.notify()

    @callback
    def _on_interval(self, _now: datetime) -> None:
        if self._since is not None:
            self._count()
            self._check()
            self._listeners.notify()

    @callback
    def _on_midnight(self, _now: datetime) -> None:
        if self._since is not None:
            self._since = dt_util.utcnow()  # the minutes before midnight were yesterday's
        self._data  # noqa: B018 -- rolls the day over
        self._store.schedule_save()
        self._check()
        self._listeners.notify()

    @callback
    def apply_options(self) -> None:
        """Apply a limit changed in the options (a higher one lifts a reached limit)."""
        self._count()
        if (
            self.minutes > 0
            and self._data["reached"]
            and self.listened_seconds() < (self.limit_seconds or 0)
        ):
            self._data["reached"] = False
        self._check()
        self._listeners.notify()

    # The limit -----------------------------------------------------------------

    @callback
    def _check(self) -> None:
        """Reach the limit now, or plan the fade and the moment it is reached."""
        self._cancel_reach()
        limit = self.limit_seconds
        if limit is None or self._data["reached"]:
            self._fade_until(None)
            return
        left = limit - self.listened_seconds()
        if left <= _TOLERANCE:
            self._reach()
            return
        if self._since is None:
            self._fade_until(None)
            return
        at = dt_util.utcnow() + timedelta(seconds=left)
        self._reach_unsub = async_track_point_in_utc_time(self._hass, self._on_reach_time, at)
        self._fade_until(at if self._player.state is PlayState.PLAYING else None)

    @callback
    def _fade_until(self, at: datetime | None) -> None:
        fader = self._fader
        if fader.ends_at == at or (
            at is not None and fader.ends_at is not None and abs(fader.ends_at - at) < _SAME_END
        ):
            return  # already planned (the minute's recount must not restart a running fade)
        coro = fader.async_cancel(notify=False) if at is None else fader.async_set_until(at)
        self._entry.async_create_task(self._hass, coro, f"{DOMAIN} daily limit fade")

    @callback
    def _cancel_reach(self) -> None:
        if self._reach_unsub is not None:
            self._reach_unsub()
            self._reach_unsub = None

    @callback
    def _on_reach_time(self, _now: datetime) -> None:
        self._reach_unsub = None
        self._count()
        self._check()

    @callback
    def _reach(self) -> None:
        self._data["reached"] = True
        self._store.schedule_save()
        _LOGGER.info("%s reached its daily limit of %s minutes", self._entry.title, self.minutes)
        self._entry.async_create_task(
            self._hass, self._async_fire_reached(), f"{DOMAIN} daily limit reached"
        )
        self._pause_all()
        self._listeners.notify()

    async def _async_fire_reached(self) -> None:
        message = await async_translate(
            self._hass, "limit_reached", name=self._entry.title, minutes=str(self.minutes)
        )
        self._fire(
            EVENT_LIMIT_REACHED,
            {
                "minutes": self.minutes,
                "extra_minutes": self._data["extra_minutes"],
                "listened_minutes": self.listened_minutes(),
                "message": message,
            },
        )

    @callback
    def _pause_all(self) -> None:
        for player in self._players:
            if player.state is PlayState.PLAYING:
                self._entry.async_create_task(
                    self._hass, player.async_pause(), f"{DOMAIN} daily limit pause"
                )

    @callback
    def grant(self, minutes: int) -> None:
        """Give extra minutes for today (a parent): a reached limit is lifted."""
        self._count()
        self._data["extra_minutes"] += minutes
        limit = self.limit_seconds
        if limit is not None and self.listened_seconds() < limit - _TOLERANCE:
            self._data["reached"] = False
        self._store.schedule_save()
        self._check()
        self._listeners.notify()

    def listened_minutes(self) -> float:
        """Return the minutes listened today (one decimal)."""
        return round(self.listened_seconds() / 60, 1)

    def as_dict(self) -> dict[str, Any]:
        """Describe today's listening (action responses, diagnostics)."""
        return {
            "limit_minutes": self.minutes,
            "extra_minutes": self._data["extra_minutes"],
            "listened_minutes": self.listened_minutes(),
            "reached": self.reached,
        }
