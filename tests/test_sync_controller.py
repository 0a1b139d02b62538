"""The rate controller on its own: fed errors, and run against a simulated player.

The simulated player hears each new speed only after the audio buffer, as mpv does, and may run
a little fast or slow against the room's clock, as every sound card does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest

from custom_components.open_music_box.sync.controller import (
    BURST,
    CHANGE_INTERVAL_SECONDS,
    COMMON_TOLERANCE_SECONDS,
    DEADBAND_SECONDS,
    HOLD_ABOVE_SECONDS,
    LEARN_SECONDS,
    RATE_LIMIT,
    REALIGN_ABOVE_SECONDS,
    REALIGN_COOLDOWN_SECONDS,
    REALIGN_HOLD_SECONDS,
    SPEED_LATENCY_SECONDS,
    TRIM,
    Correction,
    RateController,
    common_error,
)

TICK = 0.25  # the coordinator's measuring period
EPS = 1e-9


# The rate controller -----------------------------------------------------------------------------


def playing(base: float = 1.0) -> RateController:
    """A member whose rate is known, playing."""
    return RateController(base=base)


@pytest.mark.parametrize("error", [0.0, 0.00005, -0.00005, DEADBAND_SECONDS, -DEADBAND_SECONDS])
def test_errors_in_the_deadband_are_left_alone(error: float) -> None:
    controller = playing()
    assert controller.decide(error, 100.0) == Correction()
    assert controller.speed == 1.0


@pytest.mark.parametrize("error", [0.0002, 0.0008, 0.001, -0.0002, -0.001])
def test_small_errors_get_a_gentle_trim(error: float) -> None:
    """An inaudible trim (≤ 0.1 %), slowing a member that is ahead, speeding one behind."""
    correction = playing().decide(error, 100.0)
    assert correction.speed is not None
    assert not correction.seek
    assert abs(correction.speed - 1.0) <= TRIM + EPS
    assert (correction.speed < 1.0) == (error > 0)


@pytest.mark.parametrize("error", [0.002, 0.003, 0.005, 0.0099, -0.002, -0.005, -0.0099])
def test_errors_of_a_few_ms_get_a_burst_proportional_to_the_error(error: float) -> None:
    """Removed over about a second: 3 ms ahead plays 0.3 % slow; never beyond 0.5 %."""
    correction = playing().decide(error, 100.0)
    assert correction.speed is not None
    assert not correction.seek
    assert TRIM < abs(correction.speed - 1.0) <= BURST + EPS
    assert abs(correction.speed - 1.0) == pytest.approx(min(abs(error), BURST))
    assert (correction.speed < 1.0) == (error > 0)


@pytest.mark.parametrize("error", [REALIGN_ABOVE_SECONDS + 1e-4, 0.1, -0.118, -0.5, 30.0])
def test_a_member_off_by_more_than_10_ms_twice_realigns_alone(error: float) -> None:
    """A glitched member (84-118 ms off, measured at the output) is realigned at once, not
    trimmed for half a minute; one odd measurement alone moves nothing."""
    controller = playing()
    controller.decide(0.005, 99.0)  # bursting
    assert controller.speed != 1.0
    assert not controller.decide(error, 100.0).seek
    # A seek does not wait for the change interval, and the member plays at 1.0 again.
    assert controller.decide(error, 100.25) == Correction(speed=1.0, seek=True)
    assert controller.speed == 1.0


def test_an_odd_measurement_between_good_ones_does_not_realign() -> None:
    controller = playing()
    assert not controller.decide(0.05, 100.0).seek
    controller.decide(0.0, 100.25)
    assert not controller.decide(0.05, 100.5).seek


def test_realigns_are_at_least_the_cooldown_apart_with_bursts_between() -> None:
    controller = playing()
    controller.decide(0.05, 100.0)
    assert controller.decide(0.05, 100.25).seek
    controller.reset()  # the member's start after the realign resets the trim
    # Still far off (a start is accurate to a few ms only): a burst, not another seek.
    for t in (100.5, 100.75, 101.0):
        correction = controller.decide(0.02, t)
        assert not correction.seek
    assert abs(controller.speed - 1.0) == pytest.approx(BURST)
    assert controller.decide(0.02, 100.25 + REALIGN_COOLDOWN_SECONDS).seek


def test_the_room_error_is_the_median_within_a_tolerance() -> None:
    assert common_error([]) == 0.0
    assert common_error([0.0001, 0.00012, 0.00009]) == pytest.approx(0.0001)
    # One member far off does not drag the room, even in a room of two.
    assert common_error([0.0, 0.0002, 0.1]) == pytest.approx(0.0001)
    assert common_error([0.00015, -0.3]) == pytest.approx(0.00015)
    # All far off together: pulled back to within the tolerance only.
    assert common_error([0.005, 0.0051]) == pytest.approx(COMMON_TOLERANCE_SECONDS)
    assert common_error([-0.005, -0.0051, -0.0049]) == pytest.approx(-COMMON_TOLERANCE_SECONDS)


def test_members_that_agree_with_each_other_are_left_alone() -> None:
    """The deadband is about pairs: members 0.2 ms off the timeline together are not trimmed
    (each alone would be), one of them 0.2 ms off the others is."""
    errors = {"a": 0.00022, "b": 0.00026, "c": 0.00018}
    assert all(playing().decide(e, 1.0).speed is not None for e in errors.values())
    common = common_error(errors.values())
    controllers = {name: playing() for name in errors}
    assert all(controllers[n].decide(e - common, 1.0) == Correction() for n, e in errors.items())
    errors["c"] = 0.0
    common = common_error(errors.values())
    assert controllers["c"].decide(errors["c"] - common, 2.0).speed is not None
    assert controllers["a"].decide(errors["a"] - common, 2.0) == Correction()


def test_at_most_one_change_per_half_second() -> None:
    controller = playing()
    assert controller.decide(0.003, 10.0).speed is not None
    for t in (10.1, 10.25, 10.49):
        assert controller.decide(0.008, t) == Correction()
    assert controller.decide(0.008, 10.0 + CHANGE_INTERVAL_SECONDS).speed is not None


def test_returns_to_its_rate_early_counting_what_the_current_speed_still_does() -> None:
    """An error still above the deadband, but one the current trim removes before a new speed is
    heard: the speed goes back to the member's rate now, not when the error is already gone (an
    overshoot)."""
    controller = playing()
    assert controller.decide(0.001, 0.0).speed == pytest.approx(1.0 - TRIM)
    error = DEADBAND_SECONDS + 0.0003  # above the deadband...
    assert error - TRIM * SPEED_LATENCY_SECONDS <= DEADBAND_SECONDS  # ...but not for long
    correction = controller.decide(error, 0.5)
    assert correction.speed == controller.base
    assert controller.base == pytest.approx(1.0, abs=1e-4)  # 0.4 ms for 0.5 s taught little


def test_a_steady_speed_is_not_sent_again() -> None:
    controller = playing()
    assert controller.decide(0.008, 0.0).speed == pytest.approx(1.0 - BURST)
    # Still far off: the same burst speed, nothing to send.
    assert controller.decide(0.008 + BURST * SPEED_LATENCY_SECONDS, 0.5) == Correction()


def test_reset_forgets_the_trim() -> None:
    controller = RateController()
    controller.decide(0.008, 0.0)
    controller.reset()
    assert controller.speed == 1.0
    assert controller.decide(0.008, 0.1).speed is not None  # no change interval to wait for


@dataclass
class SimulatedMember:
    """A member `error` seconds ahead that hears a new speed SPEED_LATENCY_SECONDS late."""

    error: float
    rate: float = 0.0  # how much faster than the room's clock it plays at speed 1.0
    speed_heard: float = 1.0
    pending: deque[tuple[float, float]] = field(default_factory=deque)

    def run(
        self, controller: RateController, seconds: float, t: float = 0.0
    ) -> list[tuple[float, float, float]]:
        """Tick the controller from `t` until `seconds`; return (time, error, speed decided)."""
        trace = []
        while t < seconds:
            correction = controller.decide(self.error, t)
            assert not correction.seek
            if correction.speed is not None:
                self.pending.append((t + SPEED_LATENCY_SECONDS, correction.speed))
            trace.append((t, self.error, controller.speed))
            # Advance by one tick in small steps, applying the speed once it is heard.
            for _ in range(25):
                step = TICK / 25
                t += step
                while self.pending and self.pending[0][0] <= t:
                    self.speed_heard = self.pending.popleft()[1]
                self.error += (self.speed_heard - 1.0 + self.rate) * step
        return trace


def _bursts(trace: list[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """Return (start, end) of each stretch where |speed - 1| exceeded the gentle trim."""
    bursts, start = [], None
    for t, _error, speed in trace:
        bursting = abs(speed - 1.0) > TRIM + EPS
        if bursting and start is None:
            start = t
        elif not bursting and start is not None:
            bursts.append((start, t))
            start = None
    if start is not None:
        bursts.append((start, trace[-1][0]))
    return bursts


@pytest.mark.parametrize("initial", [0.004, -0.004, 0.0095, -0.0095])
def test_converges_into_the_deadband_without_overshooting(initial: float) -> None:
    controller = RateController()
    trace = SimulatedMember(initial).run(controller, 30.0)
    speeds = [speed for _t, _e, speed in trace]
    assert max(abs(speed - 1.0) for speed in speeds) <= BURST + EPS
    # Never pushed across to the other side by more than twice the deadband (learning the rate
    # on the way in overshoots a little).
    assert all(error * initial > 0 or abs(error) <= 2 * DEADBAND_SECONDS for _t, error, _s in trace)
    # A few ms are gone within a few seconds (0.5 % bursts, heard 0.4 s after they are set).
    settled = [(error, speed) for t, error, speed in trace if t > 4.0]
    assert all(abs(error) <= 2 * DEADBAND_SECONDS for error, _speed in settled)
    assert settled[-1][1] == pytest.approx(1.0, abs=TRIM / 10)  # back at about normal speed


def test_a_short_burst_needs_no_rest() -> None:
    controller = RateController()
    assert controller.decide(0.008, 0.0).speed == pytest.approx(1.0 - 0.005)
    assert controller.decide(0.002, 1.0).speed == 1.0  # caught up: the burst ended after 1 s
    assert controller.decide(0.008, 2.0).speed == pytest.approx(1.0 - 0.005)  # a burst at once


@pytest.mark.parametrize("rate", [600e-6, -600e-6, 40e-6, -40e-6])
def test_a_member_with_a_rate_of_its_own_plays_at_it(rate: float) -> None:
    """A sound card 600 ppm fast (PulseAudio's null sink here) or 40 ppm slow: once its rate is
    learned it stays within the deadband instead of a saw-tooth across it, which kept two members
    up to 1 ms apart for seconds."""
    controller = RateController()
    trace = SimulatedMember(0.0, rate=rate).run(controller, 40.0)
    assert controller.base == pytest.approx(1.0 - rate, abs=60e-6)
    late = [(error, speed) for t, error, speed in trace if t > 15.0]
    assert max(abs(error) for error, _speed in late) <= 2 * DEADBAND_SECONDS
    # And it does not hunt: the speed stays close to the member's rate.
    assert all(abs(speed - (1.0 - rate)) <= TRIM / 4 for _error, speed in late)


def test_the_learned_rate_survives_a_start() -> None:
    """The rate belongs to the member's clock: after a seek the member starts again at it."""
    controller = RateController()
    member = SimulatedMember(0.0, rate=300e-6)
    member.run(controller, 30.0)
    learned = controller.base
    assert learned == pytest.approx(1.0 - 300e-6, abs=60e-6)
    controller.reset()
    assert controller.speed == learned
    assert controller.decide(0.0, 100.0) == Correction()  # already there: nothing to send
    # A realign, too, starts at the learned rate.
    controller.decide(0.05, 101.0)
    assert controller.decide(0.05, 101.25) == Correction(speed=learned, seek=True)


@pytest.mark.parametrize("rate", [500e-6, -500e-6, 40e-6, 0.0])
def test_the_first_start_measures_the_rate_at_a_steady_speed(rate: float) -> None:
    """A member's first start: no speed change while its errors are collected, then it plays at
    the rate their slope gives (trimming from the first tick swung the speeds by hundreds of ppm
    and members drifted apart for seconds)."""
    controller = RateController()
    assert controller.learning
    member = SimulatedMember(0.0003, rate=rate)
    trace = member.run(controller, LEARN_SECONDS + 0.3)
    assert {speed for _t, _error, speed in trace[:-1]} == {1.0}
    assert not controller.learning
    assert controller.base == pytest.approx(1.0 - rate, abs=5e-6)
    learned = controller.base
    trace = member.run(controller, 12.0, trace[-1][0] + TICK)
    # What the room drifted meanwhile is removed at the trim's limit: every member held its
    # speed and comes back the same way, in step (a burst each would pull them apart).
    assert all(abs(speed - learned) <= TRIM + EPS for _t, _error, speed in trace)
    late = [error for t, error, _speed in trace if t > 8.0]
    assert max(abs(error) for error in late) <= 2 * DEADBAND_SECONDS


def test_a_seek_during_the_first_start_collects_anew() -> None:
    """Errors before a seek lie on another line: a jump between them is no rate."""
    controller = RateController()
    for tick in range(8):
        assert controller.decide(0.0005, tick * 0.25) == Correction()
    controller.reset()
    assert controller.learning
    tick = 8
    while controller.learning:
        controller.decide(-0.0005, tick * 0.25)
        tick += 1
    assert (tick - 9) * 0.25 == LEARN_SECONDS  # counted from the seek
    assert controller.base == pytest.approx(1.0)  # errors that stand still: the rate is 1.0


def test_a_large_error_during_the_first_start_is_corrected_at_once() -> None:
    """Holding the speed is for errors of a good start; one 3 ms off is corrected now and the
    integral learns its rate (too few errors were collected to measure it)."""
    controller = RateController()
    assert controller.decide(0.0005, 0.0) == Correction()
    correction = controller.decide(HOLD_ABOVE_SECONDS, 0.25)
    assert correction.speed is not None
    assert correction.speed < 1.0
    assert not controller.learning


def test_a_realigned_member_is_trusted_for_a_while() -> None:
    """After a realign small errors are left alone for a while: its output had underrun and its
    own measurement was off by up to 1 ms for seconds. Three ms or more are corrected at once;
    after the room's own starts nothing is held."""
    controller = playing()
    controller.decide(0.05, 100.0)
    assert controller.decide(0.05, 100.25).seek
    controller.reset()  # the member's start
    assert controller.decide(0.0008, 101.5) == Correction()
    assert controller.decide(0.0008, 100.25 + REALIGN_HOLD_SECONDS - 0.25) == Correction()
    assert controller.decide(HOLD_ABOVE_SECONDS, 103.0).speed is not None
    assert controller.decide(0.0008, 100.25 + REALIGN_HOLD_SECONDS).speed is not None
    controller.reset()  # a seek of the room
    assert controller.decide(0.0008, 110.0).speed is not None


def test_a_known_rate_is_played_from_the_first_start() -> None:
    controller = RateController(base=0.9995)
    assert not controller.learning
    assert controller.speed == 0.9995
    assert controller.decide(0.0, 0.0) == Correction()


def test_bursts_and_glitches_teach_no_rate() -> None:
    controller = RateController()
    for t in range(20):
        controller.decide(0.005 if t % 2 else -0.05, t * 0.25)
    assert controller.base == 1.0


def test_a_rate_beyond_any_sound_card_is_not_followed() -> None:
    controller = RateController()
    for tick in range(2000):  # 500 s of a member steadily 0.9 ms ahead
        controller.decide(0.0009, tick * 0.25)
    assert controller.base == pytest.approx(1.0 - RATE_LIMIT)
