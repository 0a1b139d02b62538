"""The player's vocabulary: states and settings (shared by its modules).

Repeat and enqueue modes are Home Assistant's own (RepeatMode, MediaPlayerEnqueue): their values
are those of the actions and WebSocket commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from homeassistant.components.media_player import RepeatMode

from .outputs.base import Output


class PlayState(StrEnum):
    """What the box is doing."""

    IDLE = "idle"
    PLAYING = "playing"
    PAUSED = "paused"


@dataclass(slots=True)
class PlayerSettings:
    """The options that shape the player (from the config entry's options)."""

    max_volume: float = 1.0  # 0..1
    min_volume: float = 0.0  # 0..1; a maximum below it wins (bedtime lowers the maximum)
    default_volume: float = 0.5  # 0..1
    previous_restart_seconds: float = 3.0

    def clamp(self, level: float) -> float:
        """Return `level` within the floor and the maximum."""
        return max(min(self.min_volume, self.max_volume), min(level, self.max_volume), 0.0)


OutputFactory = Callable[[], Output]


def interpolate(state: PlayState, position: float, updated_at: datetime, now: datetime) -> float:
    """Return where a track anchored at `position` (at `updated_at`) is at `now`."""
    if state is PlayState.PLAYING:
        return position + (now - updated_at).total_seconds()
    return position


def following(count: int, pos: int, repeat: RepeatMode) -> int | None:
    """Return the position in an order of `count` tracks that plays after `pos` (None: the end)."""
    if not count:
        return None
    if repeat is RepeatMode.ONE:
        return pos
    if pos + 1 < count:
        return pos + 1
    return 0 if repeat is RepeatMode.ALL else None
