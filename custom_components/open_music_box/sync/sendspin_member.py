"""A Sendspin player as a room member: the room decodes the track and stamps it on its timeline.

The audio is sent ahead with timestamps in the room's server clock (the Sendspin server runs on
that clock), and the player plays each chunk at its time: the player keeps itself in step, so
the coordinator measures nothing and corrects nothing here. Starts, seeks, pauses and track
changes arrive as the room's barriers; each restarts the stream at the room's position.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from typing import TYPE_CHECKING, Any

from aiosendspin.server import SendspinClient
from aiosendspin.server.push_stream import PushStream
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..models import Track
from ..sendspin.artwork import ArtworkPublisher
from ..sendspin.metadata import publish_track
from ..sendspin.stream import (
    apply_volume,
    async_feed,
    async_open_decoder,
    player_lead,
    restart_stream,
)
from .member import Member, MemberNotReady
from .timeline import Timeline, server_time

if TYPE_CHECKING:
    from ..sendspin.server import SendspinHub

MIN_LEAD_SECONDS = 0.05  # a barrier's start closer than this is taken as late


class SendspinMember(Member):
    """The room's side of one Sendspin player."""

    kind = "sendspin"
    precise = False  # the player follows the timestamps itself; nothing to measure here

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        hub: SendspinHub,
        client_id: str,
        *,
        offset_ms: float,
        rejoin: Callable[[Member], None],
        leave: Callable[[Member], None] | None = None,
    ) -> None:
        """Initialize the Sendspin member."""
        client = hub.client(client_id)
        super().__init__(f"sendspin:{client_id}", client.name if client else client_id, offset_ms)
        self.client_id = client_id
        self._hass, self._entry, self._hub = hass, entry, hub
        self._rejoin = rejoin
        # A listener that joined for itself (a browser's "Listen here") leaves when it goes.
        self._leave = leave
        self.temporary = leave is not None
        self._unlisten: Callable[[], None] | None = None
        self._track: Track | None = None
        self._feed: asyncio.Task[None] | None = None
        self._stream: PushStream | None = None
        self._fed = False  # the stream got audio since it was (re)started
        self.chunks = 0  # audio chunks committed (diagnostics)
        self._volume: tuple[float, bool] | None = None  # the room's last ask, applied on connect
        self._artwork = ArtworkPublisher(hass, entry, self.name)

    @property
    def rtt(self) -> float:
        """Return half the lead this player needs: the room's start delay is 2 x this."""
        return player_lead(self._client()) / 2

    # Membership -----------------------------------------------------------------

    def _client(self) -> SendspinClient | None:
        client = self._hub.client(self.client_id)
        return client if client is not None and client.is_connected else None

    @property
    def available(self) -> bool:
        """Return True while the player is connected."""
        return self._client() is not None

    async def async_open(self) -> None:
        """Follow the player's connection (a missing player is a member that is unavailable)."""
        self._unlisten = self._hub.listen(self.client_id, self._on_connection)

    async def async_close(self) -> None:
        """Stop streaming and forget the player's connection."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._artwork.forget()
        await self._async_end_stream()

    @callback
    def _on_connection(self, connected: bool) -> None:
        if (client := self._hub.client(self.client_id)) is not None:
            self.name = client.name
        if connected:
            if self._volume is not None:
                self._apply_volume(*self._volume)
            if (client := self._client()) is not None and self._track is not None:
                self._artwork.show(client, self._track)
            self._rejoin(self)  # the room prepares it at its position and starts it late
        else:
            if self._feed is not None:
                self._feed.cancel()  # a vanished player never holds anything
            self._feed, self._stream = None, None
            self._artwork.forget()
            if self._leave is not None:
                self._leave(self)
                return
            self._rejoin(self)  # the room shows it unavailable (its catch-up fails at once)

    # Member -----------------------------------------------------------------

    async def async_prepare(self, generation: int, track: Track, position: float) -> None:
        """Check the player is there and the track decodes; the stream starts at async_start."""
        self.generation = generation
        self.duration = track.duration
        await self._async_cancel_feed()
        if (client := self._client()) is None:
            raise MemberNotReady("not connected")
        # Open the stream now, so the player's role has joined it before the barrier's first
        # chunk, which must not be skipped.
        self._stream, self._fed = restart_stream(client), False
        self._track = track
        try:
            decoder = await async_open_decoder(self._hass, track, position)
        except (OSError, ValueError) as err:
            raise MemberNotReady(f"cannot decode {track.path}: {err}") from err
        await self._hass.async_add_executor_job(decoder.close)

    async def async_start(self, generation: int, timeline: Timeline) -> None:
        """Stream from the room's position, stamped on the room's timeline."""
        if generation != self.generation or self._track is None:
            return
        client = self._client()
        if client is None:
            raise MemberNotReady("not connected")
        await self._async_cancel_feed()
        stream = self._stream
        if stream is None or stream.is_stopped or self._fed:
            stream = self._stream = restart_stream(client)  # a realignment: restart
        self._fed = True
        now = server_time()
        start = timeline.server_time
        if start < now + MIN_LEAD_SECONDS:
            start = now + player_lead(client)
        if start > timeline.server_time:
            self.seeks += 1
        position = timeline.position_at(start) - self.offset  # the room's, for the screen
        publish_track(client, self._track, position, int(start * 1_000_000), playing=True)
        self._artwork.show(client, self._track, int(start * 1_000_000))
        self._feed = self._entry.async_create_background_task(
            self._hass,
            self._async_feed(stream, self._track, timeline.position_at(start), start),
            f"sendspin feed {self.name}",
        )

    async def _async_feed(
        self, stream: PushStream, track: Track, position: float, start: float
    ) -> None:
        decoder = await async_open_decoder(self._hass, track, position)
        # A start before the track's beginning (a negative offset) is stamped as it falls.
        await async_feed(self._hass, stream, decoder, start + max(0.0, -position), self._count)

    @callback
    def _count(self) -> None:
        self.chunks += 1

    async def _async_cancel_feed(self) -> None:
        if (feed := self._feed) is not None:
            self._feed = None
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feed

    async def _async_end_stream(self) -> None:
        """Stop feeding and end the stream (the player drops what it buffered)."""
        await self._async_cancel_feed()
        self._stream = None
        if (client := self._client()) is not None and client.group.has_active_stream:
            client.group.stop_stream()

    async def async_pause(self, generation: int, position: float) -> None:
        """Stop the stream; a resume is a new barrier."""
        self.generation = generation
        await self._async_end_stream()
        if (client := self._client()) is not None and self._track is not None:
            publish_track(client, self._track, position - self.offset, None, playing=False)

    async def async_stop(self) -> None:
        """Stop the stream."""
        self.generation += 1
        self._track = None
        await self._async_end_stream()

    async def async_set_speed(self, speed: float) -> None:
        """Nothing to trim: the player follows the timestamps."""

    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Set the player's own volume and mute (when it connects, if it is away)."""
        if self.temporary:
            return  # a browser listening has its own volume (the card's slider)
        self._volume = (volume, muted)
        self._apply_volume(volume, muted)

    def _apply_volume(self, volume: float, muted: bool) -> None:
        if (client := self._client()) is not None:
            apply_volume(client, volume, muted)

    def measure(self, now: float) -> tuple[float, float] | None:
        """Return None: a Sendspin player keeps itself on the timestamps."""
        return None

    def diagnostics(self) -> dict[str, Any]:
        """Add the stream's figures."""
        return {**super().diagnostics(), "client_id": self.client_id, "chunks": self.chunks}
