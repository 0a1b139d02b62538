"""The small protocol every output implements, and the events it reports to the player.

An output knows two tracks: the one it plays and the one prepared to follow it (gapless with
mpv). The player owns the queue, shuffle and repeat; the output never decides what comes next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from homeassistant.exceptions import HomeAssistantError

from ...const import DOMAIN
from ...models import Track


class OutputEventType(StrEnum):
    """What an output reports back."""

    ADVANCED = "advanced"  # the prepared next track started by itself (end of the previous one)
    RESTARTED = "restarted"  # playback (re)started after a load or a seek; carries the position
    PAUSE = "pause"  # paused / resumed by someone else (e.g. the target entity's own controls)
    FAILED = "failed"  # a track could not be played (undecodable...); carries path and error
    END = "end"  # the current track ended with nothing prepared: the output is idle
    DIED = "died"  # the output is gone (mpv shut down); the player builds a new one
    AVAILABLE = "available"  # availability changed (e.g. the target entity went away / came back)


@dataclass(frozen=True, slots=True)
class OutputEvent:
    """One event from an output, always delivered in the event loop."""

    type: OutputEventType
    position: float | None = None
    paused: bool | None = None
    available: bool | None = None
    path: str | None = None
    error: str | None = None


OutputListener = Callable[[OutputEvent], None]


class Output(Protocol):
    """An audio output driven by the player. Every method is called in the event loop."""

    async def async_start(self, listener: OutputListener) -> None:
        """Open the output; raise OutputError when it cannot be opened."""

    async def async_close(self) -> None:
        """Release the output."""

    async def async_load(
        self, track: Track, position: float, paused: bool, next_track: Track | None
    ) -> None:
        """Play `track` from `position` seconds (or hold it paused), with `next_track` prepared."""

    async def async_set_next(self, track: Track | None) -> None:
        """Prepare the track that follows the current one (None: stop at the end)."""

    async def async_play(self) -> None:
        """Resume."""

    async def async_pause(self) -> None:
        """Pause."""

    async def async_stop(self) -> None:
        """Stop and forget the tracks."""

    async def async_seek(self, position: float) -> None:
        """Seek the current track to `position` seconds."""

    async def async_set_volume(self, level: float) -> None:
        """Set the volume, 0..1 (the player has already applied the cap)."""

    async def async_set_mute(self, muted: bool) -> None:
        """Mute or unmute."""

    async def async_get_position(self) -> float | None:
        """Return the position of the current track in seconds, when the output knows it."""

    def diagnostics(self) -> dict[str, Any]:
        """Return what diagnostics should show about the output."""


class OutputError(HomeAssistantError):
    """The output cannot be opened or used (shown to the user as a translated error)."""

    def __init__(self, detail: str) -> None:
        """Initialize the output error."""
        super().__init__(
            detail,
            translation_domain=DOMAIN,
            translation_key="output_failed",
            translation_placeholders={"detail": detail},
        )
