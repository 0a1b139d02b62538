"""The room's timeline: what it plays and where, as a line through server time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
import time
from typing import Any


class TimelineState(StrEnum):
    """What the room is doing."""

    IDLE = "idle"
    PAUSED = "paused"
    PLAYING = "playing"


def server_time() -> float:
    """Return the server's sync clock (monotonic seconds; clients estimate their offset to it)."""
    return time.monotonic()


@dataclass(frozen=True, slots=True)
class Timeline:
    """At `server_time` the room was at `position` of `track_id`; playing advances it at `rate`."""

    generation: int = 0  # a new one for every load, seek, pause and start
    state: TimelineState = TimelineState.IDLE
    track_id: str | None = None
    position: float = 0.0
    server_time: float = 0.0
    rate: float = 1.0

    def position_at(self, t: float) -> float:
        """Return where the room is at server time `t`."""
        if self.state is TimelineState.PLAYING:
            return self.position + (t - self.server_time) * self.rate
        return self.position

    def shifted(self, offset: float) -> Timeline:
        """Return the timeline `offset` seconds ahead (a speaker that sounds late is fed early)."""
        return replace(self, position=self.position + offset)

    def as_dict(self) -> dict[str, Any]:
        """Return the timeline as sent to clients and diagnostics."""
        return {
            "generation": self.generation,
            "state": self.state.value,
            "track_id": self.track_id,
            "position": round(self.position, 6),
            "server_time": self.server_time,
            "rate": self.rate,
        }
