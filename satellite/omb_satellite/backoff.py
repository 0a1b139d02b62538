"""How long to wait before reconnecting."""

from __future__ import annotations

import random

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 0.2  # many satellites do not all knock at once after HA restarts


class Backoff:
    """Exponential backoff with jitter: 1 s, 2 s, 4 s ... 30 s, each ±20 %."""

    def __init__(
        self,
        first: float = BACKOFF_FIRST,
        maximum: float = BACKOFF_MAX,
        rng: random.Random | None = None,
    ) -> None:
        self.first = first
        self.maximum = maximum
        self._next = first
        self._rng = rng or random.Random()

    def reset(self) -> None:
        """Back to the first delay (after a successful join)."""
        self._next = self.first

    def next_delay(self) -> float:
        """Return the next delay and double the following one."""
        delay = self._next * self._rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
        self._next = min(self._next * 2, self.maximum)
        return delay
