"""The sync model on its own: line fit, clock filter, timeline (controller: test_sync_controller).

Pure functions and small classes, fed numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import random

import pytest

from custom_components.open_music_box.sync.clockfilter import (
    FAST_POLL_SECONDS,
    JITTERY_POLL_SECONDS,
    MAX_REJECTED,
    READY_SAMPLES,
    SETTLED_SAMPLES,
    SLOW_POLL_SECONDS,
    ClockFilter,
)
from custom_components.open_music_box.sync.linefit import LineFit
from custom_components.open_music_box.sync.timeline import Timeline, TimelineState, server_time

# The line fit ------------------------------------------------------------------------------------


def test_line_needs_three_samples_over_300_ms() -> None:
    fit = LineFit()
    assert fit.value_at(0.0) is None
    assert fit.last_time is None
    fit.add(1000.0, 5.0)
    fit.add(1000.2, 5.2)
    assert fit.value_at(1000.2) is None  # two samples
    fit.add(1000.25, 5.25)
    assert fit.value_at(1000.2) is None  # three, but over 250 ms only
    fit.add(1000.4, 5.4)
    assert fit.value_at(1000.6) == pytest.approx(5.6)
    assert fit.count == 4
    assert fit.last_time == 1000.4


def test_line_through_exact_samples_at_large_monotonic_times() -> None:
    """Times centred before squaring: at 10^6 s of uptime the fit is still exact."""
    fit = LineFit()
    t0 = 1_234_567.0
    for i in range(6):
        t = t0 + i * 0.2
        fit.add(t, 42.0 + (t - t0) * 1.001)
    line = fit.line()
    assert line is not None
    assert line[1] == pytest.approx(1.001, abs=1e-9)  # the speed trim shows in the slope
    predicted = fit.value_at(t0 + 1.5)
    assert predicted == pytest.approx(42.0 + 1.5 * 1.001, abs=1e-7)


def test_line_fit_averages_the_notification_jitter() -> None:
    """audio-pts stamped with 2 ms of jitter, 5 per second: the line is closer than the raw reads
    and its slope is the playback speed."""
    rng = random.Random(5)
    fit = LineFit()
    t0 = 50_000.0
    raw_errors, fit_errors = [], []
    for i in range(200):
        t = t0 + i * 0.2
        true = 10.0 + (t - t0)
        sample = true + rng.gauss(0.0, 0.002)
        fit.add(t, sample)
        raw_errors.append(sample - true)
        if (value := fit.value_at(t)) is not None:
            fit_errors.append(value - true)
    assert fit.count <= 6  # about one second of samples
    assert _rms(fit_errors) < 0.8 * _rms(raw_errors)
    line = fit.line()
    assert line is not None
    assert line[1] == pytest.approx(1.0, abs=0.02)


def _rms(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values))


def test_line_forgets_old_samples_and_resets() -> None:
    fit = LineFit()
    for i in range(6):
        fit.add(100.0 + i * 0.2, 1.0 + i * 0.2)
    # A seek: new samples on another line; after a window only those count.
    for i in range(7):
        fit.add(101.2 + i * 0.2, 60.0 + i * 0.2)
    assert fit.value_at(102.4) == pytest.approx(61.2)
    fit.reset()
    assert fit.count == 0
    assert fit.value_at(102.4) is None


# The clock filter --------------------------------------------------------------------------------


@dataclass
class Network:
    """A client whose clock runs `drift` s/s off the server's, behind one-way delays of
    `delay` ± `jitter` seconds; `outliers` of the requests sit 100-300 ms in a queue."""

    delay: float
    jitter: float
    drift: float = 0.0
    outliers: float = 0.0
    offset: float = 1234.5  # server minus client at client time 1000
    rng: random.Random = field(default_factory=lambda: random.Random(3))
    client: float = 1000.0

    def true_offset(self, client: float) -> float:
        return self.offset + self.drift * (client - 1000.0)

    def exchange(self, clock: ClockFilter, wait: float) -> tuple[bool, bool]:
        """One sample `wait` s after the last; return (queued, accepted)."""
        up = self.delay + self.rng.uniform(-self.jitter, self.jitter)
        down = self.delay + self.rng.uniform(-self.jitter, self.jitter)
        queued = self.rng.random() < self.outliers
        if queued:
            up += self.rng.uniform(0.1, 0.3)
        t1 = self.client + wait
        t2 = t1 + up + self.true_offset(t1 + up)
        t3 = t2 + 0.0001
        t4 = t1 + up + 0.0001 + down
        self.client = t4
        return queued, clock.add(t1, t2, t3, t4)

    def error(self, clock: ClockFilter) -> float:
        return clock.offset_at(self.client) - self.true_offset(self.client)


def run_clock(network: Network, samples: int) -> tuple[ClockFilter, list[float]]:
    """Sample at the filter's own pace; return it and its error after each sample."""
    clock = ClockFilter()
    errors = []
    for _ in range(samples):
        network.exchange(clock, clock.poll_interval)
        errors.append(network.error(clock))
    return clock, errors


def p95(values: list[float]) -> float:
    return sorted(abs(v) for v in values)[int(0.95 * len(values))]


def test_clock_on_a_quiet_lan_converges_at_once() -> None:
    clock = ClockFilter()
    assert not clock.ready
    assert clock.error == math.inf
    assert clock.poll_interval == FAST_POLL_SECONDS
    network = Network(delay=0.0002, jitter=0.00002)
    for _ in range(READY_SAMPLES):
        network.exchange(clock, clock.poll_interval)
    assert clock.ready
    assert abs(network.error(clock)) < 0.0001
    assert clock.rtt == pytest.approx(0.0004, abs=0.00005)  # 0.2 ms each way
    _, errors = run_clock(Network(delay=0.0002, jitter=0.00002, drift=50e-6), 100)
    assert max(abs(e) for e in errors[READY_SAMPLES:]) < 0.0001


def test_clock_polls_fast_until_settled_then_slowly() -> None:
    clock, _ = run_clock(Network(delay=0.0002, jitter=0.00002), SETTLED_SAMPLES - 1)
    assert clock.poll_interval == FAST_POLL_SECONDS
    Network(delay=0.0002, jitter=0.00002).exchange(clock, 0.2)
    assert clock.samples == SETTLED_SAMPLES
    assert clock.poll_interval == SLOW_POLL_SECONDS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clock_behind_a_jittery_network_keeps_sampling_often(seed: int) -> None:
    """Each sample through 20 ± 5 ms each way is worth little: more of them, every 0.1 s, hold
    the estimate within half a millisecond (every 2 s it wandered up to a millisecond)."""
    network = Network(delay=0.020, jitter=0.005, drift=20e-6, rng=random.Random(seed))
    clock, errors = run_clock(network, 600)
    assert clock.poll_interval == JITTERY_POLL_SECONDS
    assert p95(errors[120:]) < 0.0005


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clock_under_jitter_with_drift_converges(seed: int) -> None:
    """20 ± 5 ms round trips and a crystal 50 ppm fast: the estimate settles well under a
    millisecond (the minimum-RTT sample of the last eight wandered by 2.5 ms here) and learns
    the drift, so it does not fall behind between samples."""
    network = Network(delay=0.010, jitter=0.0025, drift=50e-6, rng=random.Random(seed))
    clock, errors = run_clock(network, 1500)  # about 150 s at the jittery pace
    assert p95(errors[30:]) < 0.001
    assert abs(errors[-1]) < 0.001
    assert clock.drift == pytest.approx(50e-6, abs=10e-6)
    assert clock.error < 0.002
    # Between samples the drift carries the offset on: 10 s later it is still right.
    later = network.client + 10.0
    assert clock.offset_at(later) == pytest.approx(network.true_offset(later), abs=0.001)


def test_clock_sets_queued_samples_aside() -> None:
    """One request in ten waits 100-300 ms in a queue (an offset off by up to 150 ms): each is
    refused and the estimate stays within a millisecond."""
    network = Network(delay=0.010, jitter=0.0025, drift=20e-6, outliers=0.1)
    clock = ClockFilter()
    errors, verdicts = [], []
    for _ in range(300):
        verdicts.append(network.exchange(clock, clock.poll_interval))
        errors.append(network.error(clock))
    refused = [queued for queued, accepted in verdicts if not accepted]
    assert refused
    assert all(refused)  # only queued samples are refused
    assert all(not accepted for queued, accepted in verdicts[1:] if queued)
    assert max(abs(e) for e in errors[30:]) < 0.002
    assert clock.samples == sum(accepted for _, accepted in verdicts)


def test_clock_follows_a_step_of_the_server_clock() -> None:
    """A few samples far off are outliers; more of them in a row are a new truth."""
    network = Network(delay=0.0002, jitter=0.00002)
    clock, _ = run_clock(network, 20)
    network.offset += 2.0
    verdicts = [network.exchange(clock, 0.2)[1] for _ in range(MAX_REJECTED + 2)]
    assert verdicts[: MAX_REJECTED - 1] == [False] * (MAX_REJECTED - 1)
    assert verdicts[-1]
    assert abs(network.error(clock)) < 0.0001


def test_clock_converts_both_ways_and_resets() -> None:
    network = Network(delay=0.0002, jitter=0.0, drift=100e-6)
    clock, _ = run_clock(network, 60)
    client = network.client + 60.0
    server = clock.to_server(client)
    assert server == pytest.approx(client + network.true_offset(client), abs=0.0001)
    assert clock.to_local(server) == pytest.approx(client, abs=1e-9)
    clock.reset()
    assert (clock.samples, clock.ready, clock.rtt, clock.offset) == (0, False, 0.0, 0.0)
    assert clock.poll_interval == FAST_POLL_SECONDS


# The timeline ------------------------------------------------------------------------------------


def test_timeline_position_at() -> None:
    playing = Timeline(3, TimelineState.PLAYING, "t", position=12.0, server_time=500.0)
    assert playing.position_at(500.0) == 12.0
    assert playing.position_at(501.5) == pytest.approx(13.5)
    assert playing.position_at(499.9) == pytest.approx(11.9)  # before its start: not yet there
    paused = Timeline(4, TimelineState.PAUSED, "t", position=12.0, server_time=500.0)
    assert paused.position_at(900.0) == 12.0
    assert Timeline().position_at(123.0) == 0.0
    assert Timeline().state is TimelineState.IDLE


def test_timeline_shifted_feeds_a_late_speaker_early() -> None:
    timeline = Timeline(7, TimelineState.PLAYING, "t", position=10.0, server_time=200.0)
    shifted = timeline.shifted(0.150)
    assert shifted.position_at(201.0) == pytest.approx(11.150)
    assert (shifted.generation, shifted.state, shifted.server_time) == (7, timeline.state, 200.0)
    assert timeline.position == 10.0  # frozen: the room's own timeline is unchanged
    assert timeline.shifted(-0.2).position == pytest.approx(9.8)


def test_timeline_as_dict() -> None:
    timeline = Timeline(2, TimelineState.PAUSED, "abc", position=1 / 3, server_time=9.5)
    assert timeline.as_dict() == {
        "generation": 2,
        "state": "paused",
        "track_id": "abc",
        "position": 0.333333,
        "server_time": 9.5,
        "rate": 1.0,
    }


def test_server_time_is_monotonic() -> None:
    first = server_time()
    assert server_time() >= first
    assert math.isfinite(first)
