"""How one member is brought back onto the room's timeline: nothing, a speed trim, or a seek.

Numbers (DESIGN.md §5): errors within the deadband are left alone; small errors are trimmed with
|speed - 1| ≤ 0.1 % (inaudible, pitch correction off); larger ones get bursts of up to 0.5 % for
at most 10 s; beyond ~200 ms the member seeks and realigns. mpv hears a new speed only after its
audio buffer (~0.4 s), so the speed changes at most every 0.5 s and the error the current speed
will still remove before the change is heard is counted first, so the trim returns to 1.0 early
instead of overshooting.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

DEADBAND_SECONDS = 0.001  # the line fit's noise is ~0.05 ms: 1 ms is well above it
TRIM = 0.001  # continuous trim: |speed - 1| ≤ 0.1 %
BURST = 0.005  # bursts: |speed - 1| ≤ 0.5 %
BURST_ABOVE_SECONDS = 0.005  # errors larger than this may use a burst
BURST_MAX_SECONDS = 10.0
SEEK_ABOVE_SECONDS = 0.2
CHANGE_INTERVAL_SECONDS = 0.5
SPEED_LATENCY_SECONDS = 0.4  # until a new speed is heard (the audio buffer)
HORIZON_SECONDS = 1.0  # a trim aims to remove the error over this long


@dataclass(frozen=True, slots=True)
class Correction:
    """What to do now: set `speed` (None: keep it), or realign with a seek."""

    speed: float | None = None
    seek: bool = False


class RateController:
    """Decides the corrections of one member from its measured error."""

    def __init__(self) -> None:
        self.speed = 1.0
        self._changed_at = -math.inf
        self._burst_since: float | None = None
        self._burst_rest_until = -math.inf  # after a full-length burst, trims only for a while

    def reset(self) -> None:
        """Forget the trim (the member was loaded, sought or paused: it plays at 1.0 again)."""
        self.speed = 1.0
        self._changed_at = -math.inf
        self._burst_since = None
        self._burst_rest_until = -math.inf

    def decide(self, error: float, now: float) -> Correction:
        """`error`: seconds the member is ahead (+) or behind (-) of where it should be."""
        if abs(error) > SEEK_ABOVE_SECONDS:
            self.reset()
            return Correction(speed=1.0, seek=True)
        if now - self._changed_at < CHANGE_INTERVAL_SECONDS:
            return Correction()
        # What the current speed still does before a new one is heard.
        predicted = error + (self.speed - 1.0) * SPEED_LATENCY_SECONDS
        if abs(predicted) <= DEADBAND_SECONDS:
            target = 1.0
        else:
            target = 1.0 - _clamp(predicted / HORIZON_SECONDS, self._limit(predicted, now))
        # The tolerance: 1 - (1 - TRIM) is a hair above TRIM in floating point, not a burst.
        self._track_burst(abs(target - 1.0) > TRIM + 1e-9, now)
        if math.isclose(target, self.speed, abs_tol=1e-6):
            return Correction()
        self.speed = target
        self._changed_at = now
        return Correction(speed=target)

    def _limit(self, predicted: float, now: float) -> float:
        if abs(predicted) <= BURST_ABOVE_SECONDS or now < self._burst_rest_until:
            return TRIM
        if self._burst_since is not None and now - self._burst_since >= BURST_MAX_SECONDS:
            return TRIM  # the burst has run its time: finish with the gentle trim
        return BURST

    def _track_burst(self, bursting: bool, now: float) -> None:
        if bursting and self._burst_since is None:
            self._burst_since = now
        elif not bursting and self._burst_since is not None:
            if now - self._burst_since >= BURST_MAX_SECONDS:
                self._burst_rest_until = now + BURST_MAX_SECONDS
            self._burst_since = None


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))
