"""The start's lead-in (sync/leadin.py) on a real libmpv (null output, real-time clock).

What a start promises: the held position is heard at the instant asked for, the lead-in's
silence is trimmed when the unpause lands early, a late instant is reported late and never
trimmed, and audio-pts less the lead-in is the position in the track, after a load and after
seeks (including files whose output lead cannot be read after a seek).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from custom_components.open_music_box.sync.leadin import (
    LEAD_IN_SECONDS,
    LeadIn,
    notice,
    output_lead,
    supported,
)

from .audio import write_wav

TOLERANCE = 0.002  # s: the position the line is asked to hold, not a timing
READS = 10


class Held:
    """One libmpv instance, held paused like a room member."""

    def __init__(self, path: Path) -> None:
        import mpv  # noqa: PLC0415 - libmpv is loaded only by tests that need it

        self.restarted = threading.Event()
        self.player: Any = mpv.MPV(ao="null", pause=True, keep_open="yes", video=False)
        self.player.register_event_callback(self._on_event)
        self.lead_in = LeadIn()
        self.player.loadfile(str(path), "replace", start="0.0")
        assert self.restarted.wait(5)
        self.held = 0.0
        self.lead_in.arm(self.player)

    def _on_event(self, event: Any) -> None:
        if event.as_dict().get("event") == b"playback-restart":
            self.restarted.set()

    def hold(self, position: float) -> None:
        self.player.pause = True
        self.restarted.clear()
        self.player.seek(position, "absolute", "exact")
        assert self.restarted.wait(5)
        self.held = position
        self.lead_in.arm(self.player)

    def start(self, instant: float) -> float:
        return self.lead_in.start(
            self.player, self.held, instant, output_lead(self.player, self.held)
        )

    def position(self) -> tuple[float, float]:
        """(monotonic time, track position) from the quickest of a few audio-pts reads.

        A read is dated by the clock on both sides of it; on a loaded machine one read may wait
        milliseconds for the GIL after the call (the room's reader drops those, ptsreader.py).
        """
        reads = []
        for _ in range(READS):
            before = time.monotonic()
            pts = float(self.player.audio_pts)
            after = time.monotonic()
            reads.append((after - before, (before + after) / 2, pts))
            time.sleep(0.002)
        _spread, at, pts = min(reads)
        return at, self.lead_in.position(pts)


@pytest.fixture(params=[8000, 48000], ids=["8kHz", "48kHz"])
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Held]:
    member = Held(write_wav(tmp_path / "tone.wav", 30.0, rate=request.param))
    yield member
    member.player.terminate()


def assert_on_plan(member: Held, position: float, instant: float) -> None:
    time.sleep(max(0.0, instant - time.monotonic()) + 0.3)
    at, heard = member.position()
    assert heard == pytest.approx(position + at - instant, abs=TOLERANCE)


def test_a_start_is_heard_at_the_instant_after_a_load_and_after_seeks(held: Held) -> None:
    instant = time.monotonic() + notice(0.0)
    assert held.start(instant) == instant
    assert held.lead_in.shift > LEAD_IN_SECONDS  # landed early: silence was added
    assert_on_plan(held, 0.0, instant)
    for position in (15.0, 4.0, 25.0):  # forward and back: the lead-in is armed anew each hold
        held.hold(position)
        assert held.lead_in.shift == LEAD_IN_SECONDS
        instant = time.monotonic() + notice(output_lead(held.player, position))
        assert held.start(instant) == instant
        assert_on_plan(held, position, instant)


def test_a_late_instant_is_reported_late_and_never_trimmed(held: Held) -> None:
    held.hold(10.0)
    instant = time.monotonic() + 0.05  # far less notice than the lead-in needs
    heard = held.start(instant)
    assert heard > instant + 0.3
    assert held.lead_in.shift == LEAD_IN_SECONDS  # nothing inserted
    assert_on_plan(held, 10.0, heard)  # the line still tells where it really is


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("5.1.9-0+deb12u1", True),  # Debian 12, Raspberry Pi OS 12
        ("n6.1.1", True),
        ("4.3.8-0+deb11u1", False),  # Debian 11: adelay takes no delay at run time
        ("N-113000-gabcdef0", True),  # a git build: assumed recent
        (None, True),
    ],
)
def test_the_lead_in_needs_ffmpeg_5(version: str | None, expected: bool) -> None:
    assert supported(SimpleNamespace(ffmpeg_version=version)) is expected


def test_this_libmpv_takes_the_lead_in(held: Held) -> None:
    assert supported(held.player)
