"""How one member is brought back onto the room: nothing, a speed trim, a burst, or a realign.

Numbers (DESIGN.md §5, measured at the sound output by bench/bench_sync_output.py): what is
heard is the offset between members, so a member is corrected against the room (the median of
the members' errors, see `common_error`), not against the timeline alone.

Every sound card runs a little fast or slow against the room's clock (tens of ppm for a crystal,
600 ppm for PulseAudio's null sink here). The controller learns that rate (`base`) and plays at
it, so a member stays on the room instead of drifting to the edge of the deadband, being pushed
back, and drifting again: that saw-tooth of ±0.5 ms was the satellites' steady offset. A
member's first start measures the rate: the speed is held for LEARN_SECONDS and the slope of its
errors is its rate. Trimming from the first tick instead (measured at the output) swung each
member's speed by hundreds of ppm on errors of tenths of a ms, the swings disturbed the members'
own audio-pts for seconds, and pairs drifted up to 1.9 ms apart for the first 5-10 s. After
that the integral of small errors keeps `base` right. Around `base`: within the deadband nothing
more; errors up to BURST_ABOVE_SECONDS get a trim of ≤ 0.1 %; larger ones a burst proportional
to the error (removed over about HORIZON_SECONDS, ≤ 0.5 %, at most 10 s); a member more than
REALIGN_ABOVE_SECONDS off, twice in a row, realigns alone (a seek to a future instant). Realigns
are at least REALIGN_COOLDOWN_SECONDS apart, bursts in between. mpv hears a new speed only after
its audio buffer (~0.4 s), so the speed changes at most every 0.5 s and the error the current
speed will still remove before the change is heard is counted first, so the trim returns to
`base` early instead of overshooting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import math
import statistics

from .linefit import fit_line

# Against the room. Small, since a member at its learned rate does not hunt: Snapcast's clients
# agree within about 0.15 ms (p95) on the same rig.
DEADBAND_SECONDS = 0.0001
MIN_STEP = 2e-5  # a smaller change of speed is not worth a command
LEARN_GAIN = 0.2  # 1/s²: with the 1 s horizon, a learned rate settles in about 5 s
RATE_LIMIT = 0.001  # a member's own rate stays within 0.1 % of the room's
TRIM = 0.001  # continuous trim: |speed - 1| ≤ 0.1 %
BURST = 0.005  # bursts: |speed - 1| ≤ 0.5 %
BURST_ABOVE_SECONDS = 0.001  # errors larger than this may use a burst
BURST_MAX_SECONDS = 10.0
REALIGN_ABOVE_SECONDS = 0.010  # a start is accurate to a few ms: realign only above that
REALIGN_COOLDOWN_SECONDS = 2.0
# Members may all be this far off the timeline together without being pulled back. Small: with
# each member at its own rate nothing else holds the room as a whole on the timeline, and left
# at a wider edge the members' corrections there pulled pairs apart.
COMMON_TOLERANCE_SECONDS = 0.0002
# A member's first start: the speed is held this long and its rate is the slope of its errors.
# The same time for every member, so they all end the hold, and return, together (holding some
# longer while their slope was uncertain let the others' return pull them apart).
LEARN_SECONDS = 3.0
LEARN_MIN_SAMPLES = 6
HOLD_ABOVE_SECONDS = 0.003  # an error this large ends a hold (below): it is corrected at once
# After a realign the member's own small errors are left alone this long (from the decision; it
# restarts 1-1.3 s later): its output stream had underrun, and a satellite heard in step (0.03 ms)
# measured itself +0.8 ms for about 3 s; trimming on it pushed it 1.3 ms out. Not after the room's
# starts: there a start 0.8 ms off was then left for 2 s (measured at the output).
REALIGN_HOLD_SECONDS = 3.5
REJOIN_SECONDS = 5.0  # after the hold, no bursts: the members return to the timeline together
CHANGE_INTERVAL_SECONDS = 0.5
SPEED_LATENCY_SECONDS = 0.4  # until a new speed is heard (the audio buffer)
HORIZON_SECONDS = 1.0  # a trim aims to remove the error over this long


def common_error(errors: Iterable[float]) -> float:
    """Return the room's own error: the members' median, within ±COMMON_TOLERANCE_SECONDS.

    Each member is corrected by its error minus this, so members that agree with each other are
    left alone even when they all sit a little off the timeline (the pair deadband). Members
    about to realign (beyond REALIGN_ABOVE_SECONDS) do not count: one glitched member never
    drags the others.
    """
    values = [e for e in errors if abs(e) <= REALIGN_ABOVE_SECONDS]
    if not values:
        return 0.0
    median = statistics.median(values)
    return max(-COMMON_TOLERANCE_SECONDS, min(COMMON_TOLERANCE_SECONDS, median))


@dataclass(frozen=True, slots=True)
class Correction:
    """What to do now: set `speed` (None: keep it), or realign with a seek."""

    speed: float | None = None
    seek: bool = False


class RateController:
    """Decides the corrections of one member from its measured error."""

    def __init__(self, base: float | None = None) -> None:
        """Initialize the rate controller; `base`: the member's rate, when known."""
        self.speed = 1.0 if base is None else base
        self.base = self.speed  # the member's own rate: survives reset(), it belongs to its clock
        # (time, error) while the first start measures the rate; None once it is known.
        self._learning: list[tuple[float, float]] | None = [] if base is None else None
        self._learned_at: float | None = None
        self._changed_at = -math.inf
        self._burst_since: float | None = None
        self._burst_rest_until = -math.inf  # after a full-length burst, trims only for a while
        self._far = 0  # consecutive measurements beyond REALIGN_ABOVE_SECONDS
        self._realigned_at = -math.inf  # survives reset(): a realign resets the trim

    def reset(self) -> None:
        """Forget the trim: the member was loaded, sought or paused, and starts again at its rate.

        The learned rate stays (it belongs to the member's clock); the member is set to `speed`.
        """
        self.speed = self.base
        self._changed_at = -math.inf
        self._learned_at = None
        self._burst_since = None
        self._burst_rest_until = -math.inf
        self._far = 0
        if self._learning is not None:
            self._learning = []  # errors before a seek are on another line

    @property
    def learning(self) -> bool:
        """Return True while the first start measures the member's rate (speed held)."""
        return self._learning is not None

    def decide(self, error: float, now: float) -> Correction:
        """`error`: seconds the member is ahead (+) or behind (-) of where it should be."""
        if abs(error) > REALIGN_ABOVE_SECONDS:
            self._far += 1
            # Twice in a row: one odd measurement never moves a member.
            if self._far >= 2 and now - self._realigned_at >= REALIGN_COOLDOWN_SECONDS:
                self.reset()
                self._realigned_at = now
                return Correction(speed=self.speed, seek=True)
        else:
            self._far = 0
        if self._learning is not None and not self._measure_rate(error, now):
            return Correction()
        if abs(error) < HOLD_ABOVE_SECONDS and now - self._realigned_at < REALIGN_HOLD_SECONDS:
            return Correction()
        self._learn(error, now)
        if now - self._changed_at < CHANGE_INTERVAL_SECONDS:
            return Correction()
        # What the current speed still does before a new one is heard.
        predicted = error + (self.speed - self.base) * SPEED_LATENCY_SECONDS
        if abs(predicted) <= DEADBAND_SECONDS:
            target = self.base
        else:
            target = self.base - _clamp(predicted / HORIZON_SECONDS, self._limit(predicted, now))
        target = 1.0 + _clamp(target - 1.0, BURST)
        # The tolerance: a hair above TRIM in floating point is not a burst.
        self._track_burst(abs(target - self.base) > TRIM + 1e-9, now)
        if abs(target - self.speed) < MIN_STEP:
            return Correction()
        self.speed = target
        self._changed_at = now
        return Correction(speed=target)

    def _measure_rate(self, error: float, now: float) -> bool:
        """Hold the speed and collect errors; return True once the rate is set (or given up)."""
        assert self._learning is not None
        points = self._learning
        held = abs(error) < HOLD_ABOVE_SECONDS
        if held:
            points.append((now, error))
        span = now - points[0][0] if points else 0.0
        if held and (span < LEARN_SECONDS or len(points) < LEARN_MIN_SAMPLES):
            return False
        if len(points) >= LEARN_MIN_SAMPLES and span >= LEARN_SECONDS / 2:
            # Errors grow at (speed x rate - 1) per second: the rate makes them stand still.
            _intercept, slope = fit_line(points)
            self.base = 1.0 + _clamp(self.speed / (1.0 + slope) - 1.0, RATE_LIMIT)
            # Every member held its speed, so the room drifted off the timeline as a whole:
            # they all come back at the trim's limit, in step, not in bursts of their own.
            self._burst_rest_until = now + REJOIN_SECONDS
        self._learning = None
        return True

    def _learn(self, error: float, now: float) -> None:
        """Integrate small errors into the member's rate (a burst or a glitch teaches nothing)."""
        if self._learned_at is not None and abs(error) <= BURST_ABOVE_SECONDS:
            elapsed = min(now - self._learned_at, 1.0)
            self.base = 1.0 + _clamp(self.base - 1.0 - LEARN_GAIN * error * elapsed, RATE_LIMIT)
        self._learned_at = now

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
