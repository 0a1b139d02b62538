"""Clock offset between a client and the server, NTP style: the minimum-RTT sample wins.

The queueing delay of a request only ever adds to its round trip, so among recent samples the
one with the shortest round trip has the least asymmetry and the most accurate offset.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

SAMPLES_KEPT = 8
FAST_POLL_SECONDS = 0.2  # until SAMPLES_KEPT samples are in
SLOW_POLL_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One exchange: offset = server - client, and its round trip, in seconds."""

    offset: float
    rtt: float


def ntp_sample(t1: float, t2: float, t3: float, t4: float) -> ClockSample:
    """Client sent at t1 and received at t4; the server received at t2 and replied at t3."""
    return ClockSample(offset=((t2 - t1) + (t3 - t4)) / 2, rtt=(t4 - t1) - (t3 - t2))


class ClockEstimator:
    """The last SAMPLES_KEPT samples; the best one gives the offset."""

    def __init__(self) -> None:
        self._samples: deque[ClockSample] = deque(maxlen=SAMPLES_KEPT)

    def add(self, sample: ClockSample) -> None:
        """Keep a sample (the oldest goes when there are SAMPLES_KEPT)."""
        self._samples.append(sample)

    @property
    def best(self) -> ClockSample | None:
        """Return the minimum-RTT sample, None before the first one."""
        return min(self._samples, key=lambda sample: sample.rtt, default=None)

    @property
    def poll_interval(self) -> float:
        """Return how long to wait before the next sample."""
        return FAST_POLL_SECONDS if len(self._samples) < SAMPLES_KEPT else SLOW_POLL_SECONDS
