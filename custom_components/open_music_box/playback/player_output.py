"""What the player's output reports: advances, ends, tracks it could not play, a dead output.

Split from player.py by job: the player changes its queue on commands; this follows the output
and moves the player along (always in the event loop: outputs deliver their events there).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from ..listeners import Listeners
from ..models import Track
from ..tasks import PartTasks
from .output_recovery import OutputRecovery
from .outputs.base import OutputError, OutputEvent, OutputEventType
from .player_types import PlayState

# The player's own helpers (_load, _lock...) are used here: this module is the other half of it.
if TYPE_CHECKING:
    from .player import Player

_LOGGER = logging.getLogger(__name__)


class OutputFollower:
    """Follows one player's output (whichever output the player has now)."""

    def __init__(self, hass: HomeAssistant, player: Player) -> None:
        """Initialize the output follower."""
        self._hass = hass
        self._player = player
        self.skipped = Listeners[[Track, str]]()
        self._skip_pending = False  # the current track failed: its end goes on to the next
        self._failed_in_row = 0  # a queue that is all failures stops instead of looping
        self._advancing = 0  # advances reported by the output that the player has not followed yet
        self._recovering = False
        self._tasks = PartTasks(hass)
        self._recovery = OutputRecovery(
            hass, lambda: self._tasks.spawn(self._async_recover(), "output recovery")
        )

    async def async_close(self) -> None:
        """Stop retrying a lost output and end the running tasks (the player closes)."""
        self._recovery.cancel()
        # Not cancelled: a recovery half way through opening mpv would leave its handle behind.
        # Each task is one short step; the recovery checks `is_closed()` between its steps.
        await self._tasks.async_close(cancel=False)

    @callback
    def new_queue(self) -> None:
        """Forget the failures of the previous queue."""
        self._failed_in_row = 0

    @callback
    def loaded(self) -> None:
        """Forget a pending skip: a track was loaded on purpose."""
        self._skip_pending = False

    @callback
    def on_event(self, event: OutputEvent) -> None:
        """Handle an event from the output (already in the event loop)."""
        player = self._player
        if player.is_closed():
            return
        match event.type:
            case OutputEventType.ADVANCED:
                # Whether the track left behind failed is known now, not when the task runs:
                # the next track may fail (and end) before the advance gets the lock.
                left_a_failure = self._skip_pending
                self._skip_pending = False
                self._advancing += 1
                self._tasks.spawn(self._async_advanced(left_a_failure), "advance")
            case OutputEventType.FAILED:
                self._on_failed(event)
            case OutputEventType.END:
                if self._skip_pending and player.state is not PlayState.IDLE:
                    self._skip_pending = False
                    self._tasks.spawn(self._async_skip_failed(), "skip")
                elif player.state is not PlayState.IDLE:
                    self._finished()
            case OutputEventType.RESTARTED:
                if event.position is not None and player.state is not PlayState.IDLE:
                    player.anchor(event.position)
                    player.notify_listeners()
            case OutputEventType.PAUSE:
                if player.state is not PlayState.IDLE and event.paused is not None:
                    player.anchor(player.current_position())
                    player.state = PlayState.PAUSED if event.paused else PlayState.PLAYING
                    player.notify_listeners()
            case OutputEventType.DIED:
                self._tasks.spawn(self._async_recover(), "output recovery")
            case OutputEventType.AVAILABLE:
                player.output_ok = bool(event.available)
                player.notify_listeners()

    @callback
    def _finished(self) -> None:
        """Go idle at the start of the queue that played to its end, and say so."""
        player = self._player
        player.state = PlayState.IDLE
        player.pos = 0
        player.anchor(0.0)
        player.notify_listeners()
        player.finished_listeners.notify(player.playlist_id)

    @callback
    def _on_failed(self, event: OutputEvent) -> None:
        """Report a track the output could not play; its end goes on to the next track."""
        player = self._player
        track = player.current
        if track is None or track.path != event.path:
            # mpv reports the entry it could not open; ours moved on meanwhile (or never had it)
            track = next((t for t in player.queue if t.path == event.path), None)
        if track is None:
            return
        reason = event.error or "error"
        _LOGGER.warning("Cannot play %s (%s): skipped", track.path, reason)
        self._failed_in_row += 1
        # The output may already be on the track we prepared while the player still follows it.
        upcoming = self._advancing > 0 and track is player.next_track()
        self._skip_pending = track is player.current or upcoming
        self.skipped.notify(track, reason)
        if self._failed_in_row >= len(player.queue):  # nothing in the queue plays: stop there
            self._skip_pending = False
            self._tasks.spawn(player.async_stop(), "stop")

    async def _async_skip_failed(self) -> None:
        """Load the next track after a failed one that ended with nothing prepared."""
        player = self._player
        async with player.lock:
            nxt = player.next_pos()
            if nxt is None or nxt == player.pos or player.state is PlayState.IDLE:
                self._finished()
                return
            player.pos = nxt
            try:
                await player.load_current(position=0.0, paused=False)
            except HomeAssistantError as err:  # the library folder went away meanwhile
                _LOGGER.warning("Cannot go on to the next track: %s", err)
                await player.stop_locked()

    async def _async_advanced(self, left_a_failure: bool) -> None:
        """Follow the output onto the track we prepared (gapless) and prepare the next."""
        if not left_a_failure:
            self._failed_in_row = 0  # the previous track played to its end
        player = self._player
        try:
            async with player.lock:
                nxt = player.next_pos()
                if nxt is None:
                    return
                player.pos = nxt
                player.track_starts += 1
                player.anchor(0.0)
                await player.refresh_next()
                player.notify_listeners()
        finally:
            self._advancing -= 1

    async def _async_recover(self) -> None:
        """Replace a dead output: go unavailable, open a new one, restore what was playing."""
        player = self._player
        if self._recovering or player.is_closed():
            return
        self._recovering = True
        self._recovery.lost()
        player.output_ok = False
        player.notify_listeners()
        position = player.current_position()
        try:
            async with player.lock:
                if player.is_closed():  # closed while waiting for the lock: start nothing new
                    return
                await player.output.async_close()
                player.output = player.output_factory()
                await player.async_start()
                if player.is_closed():  # closed meanwhile: the close releases the new output
                    return
                self._recovery.back()
                if player.state is not PlayState.IDLE and player.current is not None:
                    await player.load_current(position, paused=player.state is PlayState.PAUSED)
        except OutputError as err:
            if not player.is_closed():  # a recovery never outlives the player: no retry after
                self._recovery.failed(err)
        except HomeAssistantError as err:  # the output is back, the track's folder is not
            _LOGGER.warning("Audio output restarted; cannot resume: %s", err)
            player.state = PlayState.IDLE
        finally:
            self._recovering = False
            player.notify_listeners()
