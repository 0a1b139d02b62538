"""Bedtime (quiet hours): only bedtime playlists, a lower maximum volume, a sleep timer per play.

Bedtime is on or off, for the box and for each of its rooms on their own. A parent (the "Bedtime"
switch), an automation or a `schedule` helper turns it on and off; with the box's schedule option
on, the box and each room also do so themselves at their start and end times (the `time`
entities) — "morning ends it". A change by hand holds until the next one, whoever makes it. The
state is stored: after a restart it is as it was, unless a scheduled start or end passed meanwhile.
The rules (night maximum, sleep minutes, schedule on or off, bedtime playlists) are the box's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..listeners import Listeners
from ..playback.player import Player, PlayState
from .const import (
    CONF_BEDTIME_END,
    CONF_BEDTIME_MAX_VOLUME,
    CONF_BEDTIME_SCHEDULE,
    CONF_BEDTIME_SLEEP_MINUTES,
    CONF_BEDTIME_START,
    DEFAULT_BEDTIME_END,
    DEFAULT_BEDTIME_MAX_VOLUME,
    DEFAULT_BEDTIME_SCHEDULE,
    DEFAULT_BEDTIME_SLEEP_MINUTES,
    DEFAULT_BEDTIME_START,
    EVENT_BEDTIME,
)
from .sleep_timer import SleepTimer


def option_time(options: Any, key: str, default: str) -> time:
    """Return a time option ("HH:MM:SS"); a broken value counts as the default."""
    parsed = dt_util.parse_time(str(options.get(key, default)))
    return parsed or dt_util.parse_time(default) or time()


def _last(at: time, now: datetime) -> datetime:
    """Return the last local moment at `at` that is not after `now`."""
    moment = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    return moment if moment <= now else moment - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BedtimeLinks:
    """What one bedtime works with (the box's or a room's), not the whole box."""

    entry: ConfigEntry  # the rules (options) and the tasks' owner
    load: Callable[[], Mapping[str, Any] | None]  # the stored state
    write: Callable[[dict[str, Any]], None]  # store it (and schedule the save)
    player: Player
    sleep_timer: SleepTimer
    fire: Callable[[str, dict[str, Any]], None]  # an event for automations
    apply_volume: Callable[[], Coroutine[Any, Any, None]]  # the maximum follows bedtime
    is_bedtime_playlist: Callable[[str], bool]
    event_data: Mapping[str, Any]  # added to every bedtime event: room_id (None: the box)


class Bedtime:
    """One bedtime: the box's (times in its options) or a room's (RoomBedtime, times stored)."""

    def __init__(self, hass: HomeAssistant, links: BedtimeLinks) -> None:
        """Initialize the bedtime."""
        self._hass = hass
        self._links = links
        self._unsubs: list[Callable[[], None]] = []
        self._was_playing = False
        self._listeners = Listeners[[]]()

    @property
    def sleep_timer(self) -> SleepTimer:
        """Return the sleep timer a play at bedtime sets."""
        return self._links.sleep_timer

    # Options -----------------------------------------------------------------

    @property
    def _options(self) -> Mapping[str, Any]:
        return self._links.entry.options

    @property
    def start(self) -> time:
        """Return when bedtime starts (local time)."""
        return option_time(self._options, CONF_BEDTIME_START, DEFAULT_BEDTIME_START)

    @property
    def end(self) -> time:
        """Return when bedtime ends (local time)."""
        return option_time(self._options, CONF_BEDTIME_END, DEFAULT_BEDTIME_END)

    @property
    def scheduled(self) -> bool:
        """Return True when bedtime turns on and off at the start and end times."""
        return bool(self._options.get(CONF_BEDTIME_SCHEDULE, DEFAULT_BEDTIME_SCHEDULE))

    @property
    def max_volume(self) -> float:
        """Return the maximum volume at bedtime (0..1)."""
        return float(self._options.get(CONF_BEDTIME_MAX_VOLUME, DEFAULT_BEDTIME_MAX_VOLUME)) / 100

    @property
    def sleep_minutes(self) -> int:
        """Return the sleep timer every play gets at bedtime (0: none)."""
        return int(self._options.get(CONF_BEDTIME_SLEEP_MINUTES, DEFAULT_BEDTIME_SLEEP_MINUTES))

    # State -----------------------------------------------------------------

    @property
    def _stored(self) -> Mapping[str, Any]:
        return self._links.load() or {}

    @property
    def active(self) -> bool:
        """Return True at bedtime."""
        return bool(self._stored.get("active", False))

    @callback
    def _store(self, **changes: Any) -> None:
        self._links.write({**self._stored, **changes})

    @callback
    def _store_active(self, active: bool) -> None:
        self._store(active=active, since=dt_util.utcnow().timestamp())

    def _scheduled_state(self, now: datetime) -> tuple[bool, datetime]:
        """Return what the schedule says at `now`, and since when."""
        started, ended = _last(self.start, now), _last(self.end, now)
        return (True, started) if started > ended else (False, ended)

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Catch up with a scheduled change missed while stopped; follow the clock and player."""
        if self.scheduled:
            since = float(self._stored.get("since", 0))
            state, changed = self._scheduled_state(dt_util.now())
            if changed.timestamp() > since and state != self.active:
                self._store_active(state)
        self._follow()
        self._was_playing = self._links.player.state is PlayState.PLAYING

    @callback
    def async_stop(self) -> None:
        """Stop following the clock and the player."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    @callback
    def _follow(self) -> None:
        for at, state in ((self.start, True), (self.end, False)):

            @callback
            def changed(_now: datetime, state: bool = state) -> None:
                if self.scheduled:
                    self.set(state, "schedule")

            self._unsubs.append(
                async_track_time_change(
                    self._hass, changed, hour=at.hour, minute=at.minute, second=at.second
                )
            )
        self._unsubs.append(self._links.player.async_add_listener(self._on_player))

    @callback
    def apply_options(self) -> None:
        """Follow the start and end times of new options."""
        self.async_stop()
        self._follow()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when bedtime starts or ends (or its times change)."""
        return self._listeners.add(listener)

    # Changes -----------------------------------------------------------------

    @callback
    def set(self, active: bool, source: str) -> None:
        """Start or end bedtime (`source`: schedule, switch, action)."""
        if active == self.active:
            return
        self._store_active(active)
        data = {"active": active, "source": source, **self._links.event_data}
        self._links.fire(EVENT_BEDTIME, data)
        self._listeners.notify()
        # The maximum volume follows at once; a play that runs gets its sleep timer.
        self._links.entry.async_create_task(
            self._hass, self._async_apply(), f"{DOMAIN} bedtime {active}"
        )

    async def _async_apply(self) -> None:
        await self._links.apply_volume()
        if self.active and self._links.player.state is PlayState.PLAYING:
            await self._async_sleep_timer()

    @callback
    def _on_player(self) -> None:
        playing = self._links.player.state is PlayState.PLAYING
        started, self._was_playing = playing and not self._was_playing, playing
        if started and self.active:
            self._links.entry.async_create_task(
                self._hass, self._async_sleep_timer(), f"{DOMAIN} bedtime sleep timer"
            )

    async def _async_sleep_timer(self) -> None:
        timer = self._links.sleep_timer
        if self.sleep_minutes > 0 and timer.ends_at is None:
            await timer.async_set(self.sleep_minutes)

    def allows(self, playlist_id: str) -> bool:
        """Return True when a tag may start the playlist now."""
        return not self.active or self._links.is_bedtime_playlist(playlist_id)

    def diagnostics(self) -> dict[str, Any]:
        """Return bedtime's state and settings."""
        ends = self.sleep_timer.ends_at
        return {
            "active": self.active,
            "scheduled": self.scheduled,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "max_volume": self.max_volume,
            "sleep_minutes": self.sleep_minutes,
            "sleep_timer_ends_at": None if ends is None else ends.isoformat(),
        }
