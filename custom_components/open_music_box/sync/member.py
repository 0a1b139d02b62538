"""What the coordinator asks of every member of a room, whatever plays the sound."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
import math
from typing import Any, ClassVar

from ..models import Track
from .controller import RateController
from .timeline import Timeline

ERRORS_KEPT = 3000  # about ten minutes of corrections, for diagnostics and the benchmark
ERROR_FRESH_SECONDS = 2.0  # an older measurement no longer tells where the member is


class MemberNotReady(Exception):
    """The member cannot prepare now (disconnected, closed, load failed)."""


class Member(ABC):
    """One player of a room. Every method runs in the event loop."""

    kind: ClassVar[str]
    # True: measured to the millisecond and trimmed with speed; False: corrected by seek only.
    precise: ClassVar[bool] = True
    # True: the member catches up by itself from the room state it gets when it (re)joins.
    self_joining: ClassVar[bool] = False
    # The user who joined it for themselves (a satellite, Listen here): it takes one of their
    # seats. None: a member of the room's settings.
    user_id: str | None = None

    def __init__(self, member_id: str, name: str, offset_ms: float) -> None:
        """Initialize the member."""
        self.member_id = member_id
        self.name = name
        self.offset = offset_ms / 1000  # fed this much early (speaker latency)
        self.volume_offset = 0.0
        self.controller = RateController()
        self.generation = -1  # the last generation the member was asked to follow
        self.duration: float | None = None  # of the prepared track, when the member reads it
        self.seeks = 0
        self.last_seek = -math.inf  # server time of the last realignment (seek-only members)
        # (server time, error in seconds, speed) after each measurement.
        self.errors: deque[tuple[float, float, float]] = deque(maxlen=ERRORS_KEPT)
        # The room's: called with (path, error) when the member cannot decode its track.
        self.on_failed: Callable[[str, str], None] = lambda _path, _error: None

    @property
    def rtt(self) -> float:
        """Return the round trip to the member, seconds (0 on this host)."""
        return 0.0

    @property
    def available(self) -> bool:
        """Return True when the member can follow the room now."""
        return True

    async def async_open(self) -> None:  # noqa: B027 (most members have nothing to open)
        """Open the member's player; raise MemberNotReady when it cannot be opened."""

    def own_volume(self) -> float | None:
        """Return the volume the player had before it joined (None: it has none of its own)."""
        return None

    async def async_close(self) -> None:  # noqa: B027
        """Release the member's player."""

    @abstractmethod
    async def async_prepare(self, generation: int, track: Track, position: float) -> None:
        """Hold `track` paused at `position`; return when ready, raise MemberNotReady if not."""

    @abstractmethod
    async def async_start(self, generation: int, timeline: Timeline) -> None:
        """Play along `timeline` (already shifted by the offset), late if its start has passed."""

    @abstractmethod
    async def async_pause(self, generation: int, position: float) -> None:
        """Pause at `position` (exact), so a resume starts everyone from the same place."""

    @abstractmethod
    async def async_stop(self) -> None:
        """Stop playing."""

    @abstractmethod
    async def async_set_speed(self, speed: float) -> None:
        """Trim the playback speed."""

    @abstractmethod
    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Set the volume (0..1) and mute."""

    @abstractmethod
    def measure(self, now: float) -> tuple[float, float] | None:
        """Return (server time, position) measured recently, None while it is not known."""

    def live_status(self, now: float) -> dict[str, Any]:
        """Return what the panel shows live: connection, error, speed trim, offset, seeks."""
        last = self.errors[-1] if self.errors else None
        fresh = last is not None and now - last[0] < ERROR_FRESH_SECONDS
        return {
            "member_id": self.member_id,
            "connected": self.available,
            "error_ms": round(last[1] * 1000, 1) if last is not None and fresh else None,
            "speed": round(self.controller.speed, 5),
            "offset_ms": round(self.offset * 1000, 1),
            "realignments": self.seeks,
        }

    def diagnostics(self) -> dict[str, Any]:
        """Return what diagnostics show about the member."""
        last = self.errors[-1] if self.errors else None
        return {
            "member_id": self.member_id,
            "kind": self.kind,
            "name": self.name,
            "offset_ms": round(self.offset * 1000, 1),
            "available": self.available,
            "speed": self.controller.speed,
            "seeks": self.seeks,
            "last_error_ms": None if last is None else round(last[1] * 1000, 3),
        }
