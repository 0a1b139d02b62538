"""Bedtime (quiet hours): only bedtime playlists, a lower maximum volume, a sleep timer per play.

Bedtime is on or off. A parent (the "Bedtime" switch), an automation or a `schedule` helper turns it
on and off; with the schedule option on, the box also does so itself at the start and end times
(the two `time` entities) — "morning ends it". A change by hand holds until the next one, whoever
makes it. Its state is stored: after a restart it is as it was, unless a scheduled start or end
passed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..listeners import Listeners
from ..playback.player import PlayState
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

if TYPE_CHECKING:
    from ..box import MusicBox


def option_time(options: Any, key: str, default: str) -> time:
    """Return a time option ("HH:MM:SS"); a broken value counts as the default."""
    parsed = dt_util.parse_time(str(options.get(key, default)))
    return parsed or dt_util.parse_time(default) or time()


def _last(at: time, now: datetime) -> datetime:
    """Return the last local moment at `at` that is not after `now`."""
    moment = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    return moment if moment <= now else moment - timedelta(days=1)


class Bedtime:
    """One box's bedtime."""

    def __init__(self, hass: HomeAssistant, box: MusicBox) -> None:
        self._hass = hass
        self._box = box
        self._unsubs: list[Callable[[], None]] = []
        self._was_playing = False
        self._listeners = Listeners[[]]()

    # Options -----------------------------------------------------------------

    @property
    def start(self) -> time:
        """Return when bedtime starts (local time)."""
        return option_time(self._box.entry.options, CONF_BEDTIME_START, DEFAULT_BEDTIME_START)

    @property
    def end(self) -> time:
        """Return when bedtime ends (local time)."""
        return option_time(self._box.entry.options, CONF_BEDTIME_END, DEFAULT_BEDTIME_END)

    @property
    def scheduled(self) -> bool:
        """Return True when the box turns bedtime on and off at the start and end times."""
        return bool(self._box.entry.options.get(CONF_BEDTIME_SCHEDULE, DEFAULT_BEDTIME_SCHEDULE))

    @property
    def max_volume(self) -> float:
        """Return the maximum volume at bedtime (0..1)."""
        options = self._box.entry.options
        return float(options.get(CONF_BEDTIME_MAX_VOLUME, DEFAULT_BEDTIME_MAX_VOLUME)) / 100

    @property
    def sleep_minutes(self) -> int:
        """Return the sleep timer every play gets at bedtime (0: none)."""
        options = self._box.entry.options
        return int(options.get(CONF_BEDTIME_SLEEP_MINUTES, DEFAULT_BEDTIME_SLEEP_MINUTES))

    # State -----------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Return True at bedtime."""
        return bool(self._box.store.data.get("bedtime", {}).get("active", False))

    @callback
    def _store(self, active: bool) -> None:
        self._box.store.data["bedtime"] = {"active": active, "since": dt_util.utcnow().timestamp()}
        self._box.store.schedule_save()

    def _scheduled_state(self, now: datetime) -> tuple[bool, datetime]:
        """Return what the schedule says at `now`, and since when."""
        started, ended = _last(self.start, now), _last(self.end, now)
        return (True, started) if started > ended else (False, ended)

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Catch up with a scheduled change missed while stopped; follow the clock and player."""
        if self.scheduled:
            stored = self._box.store.data.get("bedtime")
            since = float(stored.get("since", 0)) if stored else 0.0
            state, changed = self._scheduled_state(dt_util.now())
            if changed.timestamp() > since and state != self.active:
                self._store(state)
        self._follow_clock()
        self._was_playing = self._box.player.state is PlayState.PLAYING
        self._unsubs.append(self._box.player.async_add_listener(self._on_player))

    @callback
    def async_stop(self) -> None:
        """Stop following the clock and the player."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    @callback
    def _follow_clock(self) -> None:
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

    @callback
    def apply_options(self) -> None:
        """Follow the start and end times of new options."""
        self.async_stop()
        self._follow_clock()
        self._unsubs.append(self._box.player.async_add_listener(self._on_player))

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when bedtime starts or ends."""
        return self._listeners.add(listener)

    # Changes -----------------------------------------------------------------

    @callback
    def set(self, active: bool, source: str) -> None:
        """Start or end bedtime (`source`: schedule, switch, action)."""
        if active == self.active:
            return
        self._store(active)
        self._box.events.fire(EVENT_BEDTIME, {"active": active, "source": source})
        self._listeners.notify()
        # The maximum volume follows at once; a play that runs gets its sleep timer.
        self._box.entry.async_create_task(
            self._hass, self._async_apply(), f"{DOMAIN} bedtime {active}"
        )

    async def _async_apply(self) -> None:
        await self._box.async_apply_volume_limits()
        if self.active and self._box.player.state is PlayState.PLAYING:
            await self._async_sleep_timer()

    @callback
    def _on_player(self) -> None:
        playing = self._box.player.state is PlayState.PLAYING
        started, self._was_playing = playing and not self._was_playing, playing
        if started and self.active:
            self._box.entry.async_create_task(
                self._hass, self._async_sleep_timer(), f"{DOMAIN} bedtime sleep timer"
            )

    async def _async_sleep_timer(self) -> None:
        timer = self._box.sleep_timer
        if self.sleep_minutes > 0 and timer.ends_at is None:
            await timer.async_set(self.sleep_minutes)

    # Bedtime playlists -----------------------------------------------------------------

    @property
    def _playlists(self) -> dict[str, bool]:
        return self._box.store.data.setdefault("bedtime_playlists", {})

    def allows(self, playlist_id: str) -> bool:
        """Return True when a tag may start the playlist now."""
        return not self.active or playlist_id in self._playlists

    @callback
    def set_playlist(self, playlist_id: str, bedtime: bool) -> None:
        """Mark a playlist as one for bedtime, or not."""
        self._box.catalog.require_playlist(playlist_id)
        if bedtime:
            self._playlists[playlist_id] = True
        else:
            self._playlists.pop(playlist_id, None)
        self._box.store.schedule_save()

    def playlists(self) -> list[str]:
        """Return the bedtime playlists that still exist."""
        return sorted(p for p in self._playlists if self._box.catalog.playlist(p) is not None)

    def diagnostics(self) -> dict[str, Any]:
        """Return bedtime's state and settings."""
        return {
            "active": self.active,
            "scheduled": self.scheduled,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "max_volume": self.max_volume,
            "sleep_minutes": self.sleep_minutes,
            "playlists": len(self._playlists),
        }
