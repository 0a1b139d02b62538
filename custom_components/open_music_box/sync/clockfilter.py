"""Offset and drift between a client's clock and the server's: a two-state Kalman filter.

One NTP exchange (client sends at t1, server receives at t2 and answers at t3, client receives
at t4) gives offset = ((t2 - t1) + (t3 - t4)) / 2, wrong by at most half the round trip: the
unknown share of the trip spent in each direction. The filter keeps [offset, drift], weighs each
sample by that bound (a queued request counts for little), follows a drifting crystal between
samples and skips samples far outside what it expects. Keeping the minimum-round-trip sample of
the last eight is fine on a quiet LAN but wanders by milliseconds under 20 ± 5 ms of jitter and
lags behind drift; this holds (Sendspin's time filter does the same).

Pure Python without Home Assistant: the satellite package ships this very file.
"""

from __future__ import annotations

from collections import deque
import math

# Process noise: how far the truth may move between samples. A crystal drifts by tens of ppm
# and its drift changes slowly with temperature.
OFFSET_NOISE = 1e-5  # s/√s: random wander of the offset itself
DRIFT_NOISE = 1e-7  # (s/s)/√s: random walk of the drift
MIN_SIGMA = 50e-6  # s: no exchange is trusted below this (timestamping, scheduling)
QUEUED_RTT_FACTOR = 2.0  # a round trip over twice the recent best plus 5 ms sat in a queue
QUEUED_RTT_MARGIN = 0.005
GATE_SIGMAS = 4.0  # a sample this many standard deviations off is an outlier
MAX_REJECTED = 6  # this many outliers in a row: the clock really moved, start over
READY_SAMPLES = 3  # an estimate from fewer samples is a guess
SETTLED_SAMPLES = 8  # sample fast until this many, then slowly
FAST_POLL_SECONDS = 0.2
SLOW_POLL_SECONDS = 2.0
# Behind a jittery network each sample is worth little: in the simulation (20 ± 5 ms each way),
# sampling every 0.1 s instead of 0.5 s took the estimate's error after 30 s from 0.67 ms (p95)
# to 0.30 ms; every 2 s it was 0.6-1.0 ms. A sample is two small WebSocket messages.
JITTERY_POLL_SECONDS = 0.1
PRECISE_SECONDS = 100e-6  # an estimate this good needs no more than the slow pace
RTT_KEPT = 8  # the round trip reported is the smallest of the last ones


class ClockFilter:
    """Server time as seen from the client: offset at the last sample plus drift since."""

    def __init__(self) -> None:
        """Initialize the clock filter."""
        self._rtts: deque[float] = deque(maxlen=RTT_KEPT)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new connection may reach another server process)."""
        self._time = 0.0  # client time of the state
        self._offset = 0.0
        self._drift = 0.0
        # Covariance of [offset, drift]; infinite until the first sample.
        self._p = [[math.inf, 0.0], [0.0, 0.0]]
        self._count = 0
        self._rejected = 0
        self._rtts.clear()

    def add(self, t1: float, t2: float, t3: float, t4: float) -> bool:
        """Add one exchange; return False when it was set aside as an outlier."""
        rtt = max((t4 - t1) - (t3 - t2), 0.0)
        self._rtts.append(rtt)
        if self._count and rtt > QUEUED_RTT_FACTOR * self.rtt + QUEUED_RTT_MARGIN:
            return False  # its offset may be off by half that queueing: worthless
        measured = ((t2 - t1) + (t3 - t4)) / 2
        at = (t1 + t4) / 2  # the offset is measured in the middle of the exchange
        variance = max(rtt / 2, MIN_SIGMA) ** 2
        if self._count == 0:
            self._time, self._offset, self._drift = at, measured, 0.0
            self._p = [[variance, 0.0], [0.0, (100e-6) ** 2]]  # any crystal is within 100 ppm
            self._count = 1
            return True
        p = self._predict(at)
        residual = measured - self._offset
        spread = p[0][0] + variance
        if residual**2 > GATE_SIGMAS**2 * spread and self._count >= READY_SAMPLES:
            self._rejected += 1
            if self._rejected < MAX_REJECTED:
                return False
            self.reset()  # a step of the server's clock: its past says nothing any more
            return self.add(t1, t2, t3, t4)
        self._rejected = 0
        gain_offset, gain_drift = p[0][0] / spread, p[1][0] / spread
        self._offset += gain_offset * residual
        self._drift += gain_drift * residual
        self._p = [
            [(1 - gain_offset) * p[0][0], (1 - gain_offset) * p[0][1]],
            [p[1][0] - gain_drift * p[0][0], p[1][1] - gain_drift * p[0][1]],
        ]
        self._count += 1
        return True

    def _predict(self, at: float) -> list[list[float]]:
        """Move the state to client time `at`; return its covariance there."""
        dt = max(at - self._time, 0.0)
        self._offset += self._drift * dt
        self._time = at
        (a, b), (c, d) = self._p
        q_offset = OFFSET_NOISE**2 * dt
        q_drift = DRIFT_NOISE**2
        # P' = F P Fᵀ + Q with F = [[1, dt], [0, 1]] and a random walk on the drift.
        return [
            [
                a + dt * (b + c) + dt * dt * d + q_offset + q_drift * dt**3 / 3,
                b + dt * d + q_drift * dt**2 / 2,
            ],
            [c + dt * d + q_drift * dt**2 / 2, d + q_drift * dt],
        ]

    @property
    def ready(self) -> bool:
        """Return True once the estimate rests on a few samples."""
        return self._count >= READY_SAMPLES

    @property
    def samples(self) -> int:
        """Return how many samples the estimate rests on (outliers excluded)."""
        return self._count

    @property
    def offset(self) -> float:
        """Return server time minus client time at the last sample, in seconds."""
        return self._offset

    @property
    def drift(self) -> float:
        """Return how fast the offset changes, in seconds per second."""
        return self._drift

    @property
    def error(self) -> float:
        """Return the standard deviation of the offset estimate (infinite before a sample)."""
        return math.sqrt(self._p[0][0])

    @property
    def rtt(self) -> float:
        """Return the smallest recent round trip (0 before a sample)."""
        return min(self._rtts, default=0.0)

    @property
    def poll_interval(self) -> float:
        """Return how long to wait before the next sample."""
        if self._count < SETTLED_SAMPLES:
            return FAST_POLL_SECONDS
        return SLOW_POLL_SECONDS if self.error <= PRECISE_SECONDS else JITTERY_POLL_SECONDS

    def offset_at(self, client_time: float) -> float:
        """Return the offset at a client time (the drift carries it on from the last sample)."""
        return self._offset + self._drift * (client_time - self._time)

    def to_server(self, client_time: float) -> float:
        """Convert a client time to server time."""
        return client_time + self.offset_at(client_time)

    def to_local(self, server_time: float) -> float:
        """Convert a server time to client time."""
        return (server_time - self._offset + self._drift * self._time) / (1 + self._drift)
