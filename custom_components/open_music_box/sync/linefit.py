"""A least-squares line through timestamped positions: where a player is, between its reports.

mpv reports `audio-pts` a few times per second, each a little late; a line fitted over about
one second of (monotonic time, pts) pairs gives the position at any instant to a fraction of a
millisecond, where one raw read can be tens of milliseconds stale.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

WINDOW_SECONDS = 1.0
MIN_SAMPLES = 3
MIN_SPAN_SECONDS = 0.3  # shorter spans give a slope too noisy to extrapolate


def fit_line(samples: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Return (intercept, slope) of the least-squares line through two or more distinct times."""
    # Centre the times first: monotonic seconds are large and squares would lose precision.
    t_mean = sum(t for t, _ in samples) / len(samples)
    v_mean = sum(v for _, v in samples) / len(samples)
    sxx = sum((t - t_mean) ** 2 for t, _ in samples)
    sxy = sum((t - t_mean) * (v - v_mean) for t, v in samples)
    slope = sxy / sxx
    return v_mean - slope * t_mean, slope


class LineFit:
    """Samples of (t, value) over the last `window` seconds and the line through them."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        """Initialize the line fit."""
        self._window = window
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, t: float, value: float) -> None:
        """Add a sample and forget those older than the window."""
        self._samples.append((t, value))
        while self._samples and t - self._samples[0][0] > self._window:
            self._samples.popleft()

    def reset(self) -> None:
        """Forget every sample (after a load, a seek, a pause or a speed change)."""
        self._samples.clear()

    @property
    def count(self) -> int:
        """Return how many samples the line rests on."""
        return len(self._samples)

    @property
    def last_time(self) -> float | None:
        """Return the time of the newest sample."""
        return self._samples[-1][0] if self._samples else None

    def line(self) -> tuple[float, float] | None:
        """Return (intercept, slope), or None while there are too few samples."""
        samples = list(self._samples)
        if len(samples) < MIN_SAMPLES or samples[-1][0] - samples[0][0] < MIN_SPAN_SECONDS:
            return None
        return fit_line(samples)

    def value_at(self, t: float) -> float | None:
        """Return the fitted value at time `t`, or None while there are too few samples."""
        if (fitted := self.line()) is None:
            return None
        intercept, slope = fitted
        return intercept + slope * t
