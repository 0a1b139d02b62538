"""Starts that are sample-accurate at the sound output: a silent lead-in, trimmed after the unpause.

Measured at the output (bench/bench_sync_output.py), an unpaused mpv is heard when its output
next asks for audio, on a grid of 5-20 ms that differs per stream: two members unpaused at the
same instant were heard 0-20 ms apart. So a start no longer relies on the
unpause landing. Every hold puts `LEAD_IN_SECONDS` of silence in front of the held position
(ffmpeg's `adelay` in mpv's filter chain, armed anew by each hold); the member unpauses a little
early; right after the unpause mpv's `audio-pts` tells when the held position will be heard, and
the difference to the instant asked for is added to the silence while the decoder is still in it
(`adelay` takes a larger delay at run time: the extra samples are inserted where it is). Two
streams of one sink start within 0.1 ms of each other this way (probe_lead_start.py).

No Home Assistant imports: the satellite ships this module too (satellite/omb_satellite/shared).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

LEAD_IN_SECONDS = 0.5  # silence ahead of the held position: the decoder is ~0.3 s ahead
EARLY_SECONDS = 0.1  # unpause this much early: the landing is then early, and trimmed
SPARE_SECONDS = 0.07  # for the worker thread to wake and the first audio-pts to arrive
MAX_INSERT_SECONDS = 0.45  # a larger gap means the prediction is wrong: leave it to corrections
# audio-pts is read this long after the unpause at most: later, the filter's output (up to
# ~0.4 s ahead of what is heard) may have left the silence, and an insertion would cut the audio.
PREDICT_SECONDS = 0.05
MAX_OUTPUT_LEAD_SECONDS = 0.5  # an output buffer longer than this is not believed
# A start early by any amount is trimmed exactly, a late one is not: an output lead that reads
# shorter (or not at all: some files right after a seek) is taken as mpv's 0.2 s audio buffer.
MIN_OUTPUT_LEAD_SECONDS = 0.2
WARM_SECONDS = 0.15  # a newly loaded file plays this much of its lead-in once (silence only)
LABEL = "omb_lead_in"

_LOGGER = logging.getLogger(__name__)


def notice(output_lead: float) -> float:
    """How long before the instant a member must be told to start (after a hold)."""
    return (
        LEAD_IN_SECONDS + max(output_lead, MIN_OUTPUT_LEAD_SECONDS) + EARLY_SECONDS + SPARE_SECONDS
    )


def supported(player: Any) -> bool:
    """Whether libmpv's FFmpeg takes adelay's delay at run time (FFmpeg 5.0 and later)."""
    found = re.search(r"(\d+)\.", str(player.ffmpeg_version or ""))
    return found is None or int(found.group(1)) >= 5  # unknown (a git build): assume recent


def warm_up(player: Any) -> None:
    """Play a little of the lead-in of a file just loaded, then pause: the caller holds again.

    Measured at the output, the first start after a load is mispredicted by a few hundred ms
    (the output's stream starts then), and the start of the track went unheard. Only silence is
    played: WARM_SECONDS plus what mpv decodes ahead stays within the lead-in.
    """
    player.pause = False
    time.sleep(WARM_SECONDS)
    player.pause = True


def output_lead(player: Any, held: float) -> float:
    """How long after an unpause the held position is heard (read paused, after the hold).

    While paused audio-pts lags the held position by what the output still holds: the silence
    a real device plays while paused, or what mpv's null output kept from before a seek.
    """
    pts = player.audio_pts  # None while unavailable (python-mpv)
    if pts is None or not 0.0 < held - float(pts) < MAX_OUTPUT_LEAD_SECONDS:
        return 0.0
    return held - float(pts)


class LeadIn:
    """The lead-in of one libmpv player (python-mpv). Runs on the player's worker thread."""

    def __init__(self) -> None:
        # Seconds of filter output in front of the held position: audio-pts minus this is the
        # position in the track (adelay's silence carries pts like the audio after it).
        """Initialize the lead-in."""
        self.shift = 0.0
        self._supported: bool | None = None  # read from the player once

    def arm(self, player: Any) -> None:
        """Put a fresh lead-in in front of the held position (paused, once the seek is done).

        A new filter each time: libmpv keeps a filter through seeks, and `adelay` would go on
        with its old timestamps. `fix-pts` has mpv count them from the samples (silence
        included) instead, so audio-pts minus `shift` is the position in the track.
        """
        if self._supported is None:
            self._supported = supported(player)
            if not self._supported:
                _LOGGER.warning(
                    "FFmpeg %s is older than 5.0: starts are timed by the unpause alone",
                    player.ffmpeg_version,
                )
        if not self._supported:
            return  # no lead-in: shift stays 0, start() unpauses one output lead early
        delay = f"{LEAD_IN_SECONDS * 1000:.3f}"
        player["af"] = f"@{LABEL}:lavfi=[adelay=delays={delay}:all=1]:fix-pts=yes"
        self.shift = LEAD_IN_SECONDS

    def start(self, player: Any, held: float, instant: float, output_lead: float) -> float:
        """Unpause so that `held` is heard at monotonic `instant`; return when it will be.

        Late (the instant too close), it is heard late; with no prediction (mpv too slow to
        tell), early: either way the caller's corrections see it from the member's own line.
        """
        if self.shift:  # early by a margin, trimmed below; without a lead-in, as close as it gets
            output_lead = max(output_lead, MIN_OUTPUT_LEAD_SECONDS) + EARLY_SECONDS
        wake = instant - self.shift - output_lead
        remaining = wake - time.monotonic()
        if remaining > 0.002:
            time.sleep(remaining - 0.002)
        while time.monotonic() < wake:
            time.sleep(0)  # yield the GIL: the other members' threads wake on time too
        paused_at = player.audio_pts  # the first value after the unpause must differ from it
        player.pause = False
        zero = _heard_zero(player, held if paused_at is None else float(paused_at))
        if zero is None:
            return instant
        heard = zero + held + self.shift
        gap = instant - heard
        _LOGGER.debug(
            "Unpaused %.1f ms before the instant (output lead %.1f ms): lands %.2f ms early",
            (instant - wake) * 1000,
            output_lead * 1000,
            gap * 1000,
        )
        if 0 < gap < MAX_INSERT_SECONDS and self.shift:
            # adelay adds the value (ms, to the sample) to its delay; mpv reports the graph's
            # last ENOSYS (from the filters that take no commands) as a failure of the command.
            with contextlib.suppress(SystemError):
                player.command("af-command", LABEL, "delays", f"{gap * 1000:.3f}")
            self.shift += gap
            return instant
        return heard

    def position(self, pts: float) -> float:
        """Return the track position of an audio-pts."""
        return pts - self.shift


def _heard_zero(player: Any, paused_at: float) -> float | None:
    """Monotonic time at which pts 0 would be heard, from audio-pts right after an unpause."""
    deadline = time.monotonic() + PREDICT_SECONDS
    while time.monotonic() < deadline:
        before = time.monotonic()
        pts = player.audio_pts  # None while unavailable (python-mpv)
        after = time.monotonic()
        # The first value past the paused one, read in one quick call, dates the whole stream.
        if pts is not None and abs(float(pts) - paused_at) > 1e-6 and after - before < 0.001:
            return (before + after) / 2 - float(pts)
        time.sleep(0.0002)
    return None
