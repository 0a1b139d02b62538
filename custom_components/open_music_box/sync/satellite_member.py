"""A remote satellite: a player on another machine, following the room over the WebSocket API.

The satellite measures itself (audio-pts line fit, clock offset to the server) and reports its
position in server time; the server decides the corrections and sends them as events on the
satellite's join subscription. The member outlives a dropped connection for REJOIN_SECONDS, so a
satellite that reconnects resumes its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback

from ..models import Track
from .member import Member, MemberNotReady
from .timeline import Timeline, server_time

REJOIN_SECONDS = 60.0  # a disconnected satellite keeps its identity this long
SILENT_SECONDS = 60.0  # a connected satellite that says nothing this long is a zombie
REPORT_MAX_AGE_SECONDS = 2.0  # older reports no longer tell where the satellite is
# A satellite's own round trip sets the room's start delay (T0 = now + 2 x RTT): above this it is
# no LAN but a lie or a broken link, and is ignored (the satellite then starts late by itself).
MAX_RTT_SECONDS = 0.25

Sender = Callable[[dict[str, Any]], None]
UrlFor = Callable[[Track], str]


@dataclass(frozen=True, slots=True)
class Report:
    """Where the satellite was at a server time, and what it knew of its clock."""

    generation: int
    position: float
    server_time: float
    speed: float


class SatelliteMember(Member):
    """The server's side of one satellite."""

    kind = "satellite"
    self_joining = True

    def __init__(
        self, member_id: str, name: str, offset_ms: float, url_for: UrlFor, user_id: str | None
    ) -> None:
        """Initialize the satellite member."""
        super().__init__(member_id, name, offset_ms)
        self.user_id = user_id
        self._url_for = url_for
        self._send: Sender | None = None
        self.last_seen = server_time()
        self.disconnected_at: float | None = None
        self.report: Report | None = None
        self.clock_offset: float | None = None
        self.clock_rtt: float | None = None
        self.reports = 0
        self.implausible_rtts = 0
        self.heard = False  # said something since joining (else it never joined properly)
        self._ready: dict[int, asyncio.Future[None]] = {}

    # Connection -----------------------------------------------------------------

    @callback
    def connect(self, send: Sender) -> None:
        """Hand the member to a (re)joined connection."""
        self._send = send
        self.disconnected_at = None
        self.last_seen = server_time()

    @callback
    def disconnect(self, send: Sender | None = None) -> None:
        """Forget a closed connection, but keep the identity for REJOIN_SECONDS.

        With `send`, only when that connection still holds the member (not one replaced by a
        newer connection of the same satellite).
        """
        if send is not None and send is not self._send:
            return
        self._send = None
        self.disconnected_at = server_time()
        self.report = None
        for future in self._ready.values():
            if not future.done():
                future.set_exception(MemberNotReady("disconnected"))
        self._ready.clear()

    @callback
    def seen(self) -> None:
        """Note that the satellite said something: it is alive."""
        self.last_seen = server_time()
        self.heard = True

    def expired(self, now: float) -> bool:
        """Return True when the member should be dropped (gone, or a silent zombie).

        One that left without a word after joining keeps no seat: it never joined properly.
        """
        if self.disconnected_at is not None:
            return not self.heard or now - self.disconnected_at > REJOIN_SECONDS
        return now - self.last_seen > SILENT_SECONDS

    @property
    def available(self) -> bool:
        """Return True while connected."""
        return self._send is not None

    @property
    def rtt(self) -> float:
        """Return the satellite's round trip, 0 when it is not plausible (see MAX_RTT_SECONDS)."""
        rtt = self.clock_rtt
        return rtt if rtt is not None and rtt <= MAX_RTT_SECONDS else 0.0

    @callback
    def send(self, event: dict[str, Any]) -> None:
        """Send an event on the join subscription (dropped while disconnected)."""
        if self._send is not None:
            self._send(event)

    # Messages from the satellite -----------------------------------------------------------

    @callback
    def ready(self, generation: int) -> bool:
        """Note the satellite holds the prepared track; return False for a stale generation."""
        self.seen()
        future = self._ready.pop(generation, None)
        if future is None:
            return False
        if not future.done():
            future.set_result(None)
        return True

    @callback
    def add_report(self, report: Report, clock_offset: float, clock_rtt: float) -> bool:
        """Record a position report; return False for a stale generation."""
        self.seen()
        self.clock_offset, self.clock_rtt = clock_offset, clock_rtt
        if clock_rtt > MAX_RTT_SECONDS:
            self.implausible_rtts += 1
        if report.generation != self.generation:
            return False
        self.report = report
        self.reports += 1
        return True

    # Member -----------------------------------------------------------------

    async def async_prepare(self, generation: int, track: Track, position: float) -> None:
        """Ask the satellite to load; wait for its ready."""
        self.generation = generation
        self.controller.reset()
        self.report = None
        self.duration = track.duration
        if self._send is None:
            raise MemberNotReady("disconnected")
        for older in self._ready.values():
            older.cancel()  # a newer barrier: nobody waits for the older ready any more
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ready = {generation: future}
        self.send(
            {
                "type": "prepare",
                "generation": generation,
                "track_id": track.id,
                "url": self._url_for(track),
                "position": max(0.0, position),
            }
        )
        await future

    async def async_start(self, generation: int, timeline: Timeline) -> None:
        """Tell the satellite when to play; it starts late by itself if the instant passed."""
        if generation != self.generation:
            return
        if timeline.server_time < server_time():
            self.seeks += 1
        self.controller.reset()
        self.report = None
        # Start at the member's rate. A realign comes without a prepare: the satellite would
        # keep its trim (a 0.5 % burst, say) while the controller starts again from its rate.
        # Measured: it then drifted 5 ms/s after each realign and was realigned over and over.
        self.send({"type": "speed", "speed": self.controller.speed})
        self.send(
            {
                "type": "start",
                "generation": generation,
                "position": timeline.position,
                "server_time": timeline.server_time,
            }
        )

    async def async_pause(self, generation: int, position: float) -> None:
        """Pause at the room's position."""
        self.generation = generation
        self.controller.reset()
        self.report = None
        self.send({"type": "pause", "generation": generation, "position": max(0.0, position)})

    async def async_stop(self) -> None:
        """Stop."""
        self.generation += 1
        self.report = None
        self.send({"type": "stop"})

    async def async_set_speed(self, speed: float) -> None:
        """Trim the satellite's speed."""
        self.send({"type": "speed", "speed": speed})

    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Set the satellite's volume."""
        self.send({"type": "volume", "volume": volume, "muted": muted})

    def measure(self, now: float) -> tuple[float, float] | None:
        """Return the last report of this generation, while it is recent."""
        report = self.report
        if report is None or now - report.server_time > REPORT_MAX_AGE_SECONDS:
            return None
        return report.server_time, report.position

    def diagnostics(self) -> dict[str, Any]:
        """Add the connection and clock details."""
        return {
            **super().diagnostics(),
            "connected": self.available,
            "reports": self.reports,
            "implausible_rtts": self.implausible_rtts,
            "clock_offset_ms": None if self.clock_offset is None else self.clock_offset * 1000,
            "clock_rtt_ms": None if self.clock_rtt is None else self.clock_rtt * 1000,
        }
