"""Play on a Sendspin player paired with the box (for hosts without libmpv, Home Assistant OS).

The box decodes the track and sends it ahead, stamped on the server clock, like a room does for
its Sendspin members (sendspin/stream.py). The output keeps its own timeline: at `_at` (server
time) the current track was at `_position`; pausing, seeking and reconnecting restart the
stream from where that timeline is. The next track is sent right after the current one on the
same timeline (gapless), and the advance is reported when its first sample is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from functools import partial
import logging
from typing import TYPE_CHECKING, Any

from aiosendspin.server import SendspinClient
from aiosendspin.server.push_stream import PushStream
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ...models import Track
from ...sendspin.artwork import ArtworkPublisher
from ...sendspin.metadata import publish_track
from ...sendspin.stream import (
    apply_volume,
    async_feed,
    async_open_decoder,
    player_lead,
    restart_stream,
)
from ...sync.timeline import server_time
from .base import OutputEvent, OutputEventType, OutputListener

if TYPE_CHECKING:
    from ...sendspin.server import SendspinHub

_LOGGER = logging.getLogger(__name__)

type PlayerChoice = Callable[[], str | None]


class SendspinOutput:
    """Streams the player's tracks to one Sendspin player (`client_id()` says which, if any)."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, hub: SendspinHub, client_id: PlayerChoice
    ) -> None:
        """Initialize the Sendspin output."""
        self._hass, self._entry, self._hub = hass, entry, hub
        self._choose = client_id
        self.client_id: str | None = None
        self._connected: bool | None = None  # what was logged (log-when-unavailable)
        self._listener: OutputListener = lambda _event: None
        self._unsubs: list[Callable[[], None]] = []
        self._unlisten: Callable[[], None] | None = None
        self._current: Track | None = None
        self._next: Track | None = None  # the player's next track, not sent yet
        self._sent_next: Track | None = None  # sent after the current one, not heard yet
        self._next_failed: tuple[Track, str] | None = None
        self._playing = False
        self._at, self._position = server_time(), 0.0
        self._feed: asyncio.Task[None] | None = None
        self._timers: list[CALLBACK_TYPE] = []
        self._volume: tuple[float, bool] = (0.5, False)
        self._artwork = ArtworkPublisher(hass, entry, "output")
        self.chunks = 0  # diagnostics

    # Life cycle -----------------------------------------------------------------

    async def async_start(self, listener: OutputListener) -> None:
        """Follow the chosen player (unavailable until it connects; never an error)."""
        self._listener = listener
        self._unsubs.append(self._entry.add_update_listener(self._async_entry_updated))
        self._follow(self._choose())

    async def _async_entry_updated(self, _hass: HomeAssistant, _entry: ConfigEntry) -> None:
        """Follow another player when one was added or removed (the first one is the default)."""
        if (chosen := self._choose()) != self.client_id:
            self._follow(chosen)

    @callback
    def _follow(self, client_id: str | None) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.client_id = client_id
        self._artwork.forget()
        if client_id is not None:
            self._unlisten = self._hub.listen(client_id, self._on_connection)
        self._on_connection(self._client() is not None)

    async def async_close(self) -> None:
        """Stop streaming and following the player."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._artwork.forget()
        await self._async_end_stream()

    def _log_connection(self, connected: bool) -> None:
        """Log once when the box's player goes and once when it is back (INFO, not each retry)."""
        if connected == self._connected or self.client_id is None:
            return
        if connected:
            _LOGGER.info("Sendspin player %s is connected", self.client_id)
        elif self._connected is None:
            _LOGGER.info("Sendspin player %s is not connected yet", self.client_id)
        else:
            _LOGGER.info("Sendspin player %s is gone", self.client_id)
        self._connected = connected

    def _client(self) -> SendspinClient | None:
        if self.client_id is None:
            return None
        client = self._hub.client(self.client_id)
        return client if client is not None and client.is_connected else None

    @property
    def available(self) -> bool:
        """Return True while the chosen player is connected."""
        return self._client() is not None

    @callback
    def _on_connection(self, connected: bool) -> None:
        self._log_connection(connected)
        self._listener(OutputEvent(OutputEventType.AVAILABLE, available=connected))
        if connected:
            if (client := self._client()) is not None:
                apply_volume(client, *self._volume)
                if self._current is not None:
                    self._artwork.show(client, self._current)
            if self._playing and self._current is not None:
                # Back: the track goes on from where the output's timeline is now.
                self._start(self._current, self.position_now())
        else:
            self._artwork.forget()
            self._cancel()  # a vanished player holds nothing; the timeline goes on

    # Timeline -----------------------------------------------------------------

    @property
    def anchor(self) -> tuple[float, float]:
        """Return (server time, position): when the current track was (or will be) where."""
        return self._at, self._position

    def position_now(self) -> float:
        """Return the current track's position on the output's timeline."""
        if not self._playing:
            return self._position
        return max(0.0, self._position + server_time() - self._at)

    @callback
    def _cancel(self) -> None:
        """Stop feeding and forget the pending advances (the stream itself stays)."""
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None
        for unsub in self._timers:
            unsub()
        self._timers.clear()
        if self._sent_next is not None:  # not heard: it is the next one again
            self._next, self._sent_next = self._sent_next, None
        self._next_failed = None

    async def _async_cancel_feed(self) -> None:
        feed = self._feed
        self._cancel()
        if feed is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feed

    async def _async_end_stream(self) -> None:
        """Stop feeding and end the stream (the player drops what it buffered)."""
        await self._async_cancel_feed()
        if (client := self._client()) is not None and client.group.has_active_stream:
            client.group.stop_stream()

    @callback
    def _start(self, track: Track, position: float) -> None:
        """Play `track` from `position`, heard a short lead from now (restarts the stream)."""
        self._cancel()
        start = server_time() + player_lead(self._client())
        self._playing, self._at, self._position = True, start, position
        if (client := self._client()) is None:
            return  # the timeline runs; the audio starts when the player is back
        stream = restart_stream(client)  # the player drops what it buffered
        publish_track(client, track, position, int(start * 1_000_000), playing=True)
        self._artwork.show(client, track, int(start * 1_000_000))
        self._later(start, self._restarted)
        self._feed = self._entry.async_create_background_task(
            self._hass, self._async_run(stream, track, position, start), "sendspin output"
        )

    @callback
    def _later(self, at: float, action: Callable[[], None]) -> None:
        @callback
        def run(_now: Any) -> None:
            self._timers.remove(unsub)
            action()

        unsub = async_call_later(self._hass, max(0.0, at - server_time()), run)
        self._timers.append(unsub)

    @callback
    def _restarted(self) -> None:
        self._listener(OutputEvent(OutputEventType.RESTARTED, position=self.position_now()))

    async def _async_run(
        self, stream: PushStream, track: Track, position: float, at: float
    ) -> None:
        """Send the current track, then each next one the player prepares, back to back."""
        try:
            decoder = await async_open_decoder(self._hass, track, position)
        except (OSError, ValueError) as err:
            self._feed = None
            self._listener(OutputEvent(OutputEventType.FAILED, path=track.path, error=str(err)))
            self._ended()
            return
        while True:
            end = await async_feed(self._hass, stream, decoder, at, self._count)
            if self._next is None:  # wait for one until the end is heard
                await asyncio.sleep(max(0.0, end - server_time()))
            if (following := self._next) is None:
                self._feed = None
                self._ended()
                return
            self._next, self._sent_next = None, following
            at = max(end, server_time() + player_lead(self._client()))  # late only after a wait
            self._later(at, partial(self._advanced, at))
            try:
                decoder = await async_open_decoder(self._hass, following, 0.0)
            except (OSError, ValueError) as err:
                self._feed = None
                self._next_failed = (following, str(err))  # reported once the player is on it
                return

    @callback
    def _count(self) -> None:
        self.chunks += 1

    @callback
    def _advanced(self, at: float) -> None:
        """Report that the track sent after the current one is heard now."""
        self._current, self._sent_next = self._sent_next, None
        self._at, self._position = at, 0.0
        if (client := self._client()) is not None and self._current is not None:
            publish_track(client, self._current, 0.0, int(at * 1_000_000), playing=True)
            self._artwork.show(client, self._current, int(at * 1_000_000))
        self._listener(OutputEvent(OutputEventType.ADVANCED))

    @callback
    def _ended(self) -> None:
        self._playing, self._current = False, None
        self._listener(OutputEvent(OutputEventType.END))

    # Output -----------------------------------------------------------------

    async def async_load(
        self, track: Track, position: float, paused: bool, next_track: Track | None
    ) -> None:
        """Play `track` from `position` (or hold it there paused)."""
        if paused:
            await self._async_end_stream()
        else:
            await self._async_cancel_feed()  # the new stream replaces the old one
        self._current, self._next = track, next_track
        if paused:
            self._playing, self._position = False, position
            if (client := self._client()) is not None:
                publish_track(client, track, position, None, playing=False)
                self._artwork.show(client, track)
            return
        self._start(track, position)

    async def async_set_next(self, track: Track | None) -> None:
        """Prepare the next track; one already sent but not heard is sent again if it changed."""
        if (failed := self._next_failed) is not None and failed[0] is self._current:
            # The player is on a track that could not be opened: it skips it (as with mpv).
            self._next_failed = None
            track, error = failed
            self._listener(OutputEvent(OutputEventType.FAILED, path=track.path, error=error))
            self._ended()
            return
        if self._sent_next is not None:
            if track is not None and track.id == self._sent_next.id:
                return
            self._next = track
            self._sent_next = None
            if self._playing and self._current is not None:
                self._start(self._current, self.position_now())
            return
        self._next = track

    async def async_play(self) -> None:
        """Resume from where it was paused."""
        if not self._playing and self._current is not None:
            self._start(self._current, self._position)

    async def async_pause(self) -> None:
        """Stop the stream; the position stays."""
        position = self.position_now()
        await self._async_end_stream()
        self._playing, self._position = False, position
        if (client := self._client()) is not None and self._current is not None:
            publish_track(client, self._current, position, None, playing=False)

    async def async_stop(self) -> None:
        """Stop and forget the tracks."""
        await self._async_end_stream()
        self._playing, self._current, self._next, self._position = False, None, None, 0.0

    async def async_seek(self, position: float) -> None:
        """Restart the stream at `position` (or move there while paused)."""
        if self._playing and self._current is not None:
            await self._async_cancel_feed()
            self._start(self._current, position)
        else:
            self._position = position

    async def async_set_volume(self, level: float) -> None:
        """Set the player's own volume (when it connects, if it is away)."""
        self._volume = (level, self._volume[1])
        if (client := self._client()) is not None:
            apply_volume(client, *self._volume)

    async def async_set_mute(self, muted: bool) -> None:
        """Mute the player (when it connects, if it is away)."""
        self._volume = (self._volume[0], muted)
        if (client := self._client()) is not None:
            apply_volume(client, *self._volume)

    async def async_get_position(self) -> float | None:
        """Return the position on the output's timeline."""
        return self.position_now() if self._current is not None else None

    def diagnostics(self) -> dict[str, Any]:
        """Describe the output."""
        return {
            "type": "sendspin",
            "client_id": self.client_id,
            "connected": self.available,
            "playing": self._playing,
            "chunks": self.chunks,
        }
