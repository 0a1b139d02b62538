"""The reconnection backoff."""

from __future__ import annotations

import random

import pytest

from omb_satellite.backoff import BACKOFF_JITTER, BACKOFF_MAX, Backoff


def test_backoff_doubles_up_to_the_maximum_with_jitter() -> None:
    backoff = Backoff(rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    nominal = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    for delay, expected in zip(delays, nominal, strict=True):
        assert expected * (1 - BACKOFF_JITTER) <= delay <= expected * (1 + BACKOFF_JITTER)
    assert len(set(delays)) == len(delays)  # jittered: satellites do not knock all at once
    assert max(delays) <= BACKOFF_MAX * (1 + BACKOFF_JITTER)


def test_backoff_starts_over_after_a_join() -> None:
    backoff = Backoff(first=0.5, maximum=4.0, rng=random.Random(2))
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.5, rel=BACKOFF_JITTER)
