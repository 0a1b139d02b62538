"""What the recording says: where in the track each member is, at each instant of the recording.

Pure numpy. `x` is one member's channel, `track` the test signal, both at RATE. A window of the
channel is found in the track by cross-correlation (FFT), the peak refined by parabolic
interpolation to a fraction of a sample. Offsets between members are differences of their
track positions at the same recording instant: the recording's one clock is the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import itertools
import statistics
from typing import Any

import numpy as np

from bench._pulse_rig import RATE

MIN_QUALITY = 0.5  # normalised correlation below this: silence, or not our signal
NARROW_SECONDS = 0.15  # search around where the member was a window ago
WIDE_SECONDS = 2.0  # search when it is not known where the member is
ONSET_LEVEL = 0.01  # |sample| above this: sound (the test signal's peaks are ~0.5)
STRETCH_PROBE_SECONDS = 0.2  # a window's ends, located to measure its rate
MAX_STRETCH = 0.01  # a rate further off than 1 % is a wrong match, not a member's speed


def locate(
    x: np.ndarray, track: np.ndarray, start: float, window: float, *, guess: float, search: float
) -> float | None:
    """Track position heard at recording time `start` (None: silence or no match).

    A member that plays at 0.9995 to follow the room (the recording's sink runs that far off the
    room's clock) is 0.5 ms stretched over a 1 s window: enough to smear the correlation of this
    noise below MIN_QUALITY. Long windows are first located at both ends, and the chunk is
    resampled by the rate those give before the whole window is located.
    """
    a = round(start * RATE)
    chunk = x[a : a + int(window * RATE)].astype(np.float64)
    if len(chunk) < window * RATE * 0.9 or np.sqrt(np.mean(chunk**2)) < ONSET_LEVEL / 4:
        return None
    if window > STRETCH_PROBE_SECONDS * 2:
        span = window - STRETCH_PROBE_SECONDS
        first = _correlate(chunk[: round(STRETCH_PROBE_SECONDS * RATE)], track, guess, search)
        if first is None:
            return None
        tail = chunk[round(span * RATE) :][: round(STRETCH_PROBE_SECONDS * RATE)]
        last = _correlate(tail, track, first + span, NARROW_SECONDS)
        if last is not None and abs((rate := (last - first) / span) - 1.0) < MAX_STRETCH:
            # The track's samples at the chunk's instants: chunk(k / rate).
            stretched = np.arange(int(len(chunk) * rate)) / rate
            chunk = np.interp(stretched, np.arange(len(chunk)), chunk)
        guess, search = first, NARROW_SECONDS
    return _correlate(chunk, track, guess, search)


def _correlate(chunk: np.ndarray, track: np.ndarray, guess: float, search: float) -> float | None:
    """Where `chunk` starts in the track, near `guess` (None: no clear match)."""
    lo = max(0, round((guess - search) * RATE))
    hi = min(len(track), round((guess + search) * RATE) + len(chunk))
    ref = track[lo:hi].astype(np.float64)
    if len(ref) < len(chunk) + 2:
        return None
    size = 1 << int(np.ceil(np.log2(len(ref) + len(chunk))))
    corr = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(chunk, size)), size)
    corr = corr[: len(ref) - len(chunk) + 1]
    peak = int(np.argmax(corr))
    energy = np.sqrt(np.sum(chunk**2) * np.sum(ref[peak : peak + len(chunk)] ** 2))
    if energy == 0 or corr[peak] / energy < MIN_QUALITY:
        return None
    shift = 0.0
    if 0 < peak < len(corr) - 1:
        y0, y1, y2 = corr[peak - 1], corr[peak], corr[peak + 1]
        denominator = y0 - 2 * y1 + y2
        if denominator != 0:
            shift = 0.5 * (y0 - y2) / denominator
    return (lo + peak + shift) / RATE


def follow(
    x: np.ndarray,
    track: np.ndarray,
    t_from: float,
    t_to: float,
    guess: Callable[[float], float | None],
    *,
    window: float,
    hop: float,
) -> list[tuple[float, float]]:
    """(recording time, track position) every `hop` from t_from to t_to, following the member.

    Each window is looked for near where the member was a window ago, else near guess(t).
    """
    points: list[tuple[float, float]] = []
    t = t_from
    expected: float | None = None
    while t + window <= t_to:
        found = None
        if expected is not None:
            found = locate(x, track, t, window, guess=expected, search=NARROW_SECONDS)
        if found is None and (wide := guess(t)) is not None:
            found = locate(x, track, t, window, guess=wide, search=WIDE_SECONDS)
        if found is not None:
            points.append((t, found))
        expected = None if found is None else found + hop
        t += hop
    return points


def onset(x: np.ndarray, t_from: float, t_to: float) -> float | None:
    """First recording time in [t_from, t_to) with sound after at least 50 ms of silence."""
    a, b = int(t_from * RATE), int(t_to * RATE)
    loud = np.flatnonzero(np.abs(x[a:b]) > ONSET_LEVEL)
    quiet = int(0.05 * RATE)
    for index in loud:
        before = x[max(0, a + index - quiet) : a + index]
        if len(before) == quiet and np.all(np.abs(before) <= ONSET_LEVEL):
            return (a + index) / RATE
    return None


@dataclass
class Start:
    """One member's start: when it began sounding, and where in the track."""

    onset: float  # recording time
    position: float  # track position of its first sample


def start_of(
    x: np.ndarray, track: np.ndarray, t_from: float, t_to: float, requested: float
) -> Start | None:
    """The member's onset in [t_from, t_to) and the track position of its first sample."""
    if (at := onset(x, t_from, t_to)) is None:
        return None
    found = locate(x, track, at, 0.1, guess=requested + 0.1, search=0.4)
    return None if found is None else Start(at, found)


def barrier_figures(
    channels: dict[str, np.ndarray],
    track: np.ndarray,
    t_rec: float,
    requested: float,
    horizon: float,
) -> dict[str, Any]:
    """Onset spread, audio missing, largest offset in the first 100 ms, time to settle."""
    starts = {
        name: start_of(x, track, t_rec - 0.4, t_rec + 0.8, requested)
        for name, x in channels.items()
    }
    found = {n: s for n, s in starts.items() if s is not None}
    if len(found) < 2:
        return {"members_found": len(found)}
    first = min(s.onset for s in found.values())
    # A member's line: recording time at which it would have sounded `requested`.
    virtual = {n: s.onset - (s.position - requested) for n, s in found.items()}
    series = {
        name: follow(
            channels[name],
            track,
            first,  # one grid of instants for every member: pairs compare the same instants
            first + horizon,
            lambda t, s=s: s.position + max(0.0, t - s.onset),
            window=0.2,
            hop=0.1,
        )
        for name, s in found.items()
    }
    return {
        "members_found": len(found),
        "onset_spread_ms": (max(s.onset for s in found.values()) - first) * 1000,
        "missing_ms": {n: (s.position - requested) * 1000 for n, s in found.items()},
        "first_100ms_ms": (max(virtual.values()) - min(virtual.values())) * 1000,
        "settle_1ms_s": settle_time(series, first, horizon, 0.001),
        "settle_05ms_s": settle_time(series, first, horizon, 0.0005),
    }


def pair_offsets(
    series: dict[str, list[tuple[float, float]]],
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Per pair (a, b): (recording time, position a - position b) where both were located."""
    located = {n: dict(points) for n, points in series.items()}
    pairs = {}
    for a, b in itertools.combinations(sorted(series), 2):
        common = sorted(set(located[a]) & set(located[b]))
        pairs[(a, b)] = [(t, located[a][t] - located[b][t]) for t in common]
    return pairs


def settle_time(
    series: dict[str, list[tuple[float, float]]], first: float, horizon: float, limit: float
) -> float | None:
    """Seconds after `first` from which every pair stays within `limit` (None: never)."""
    last_bad = first
    seen = False
    for offsets in pair_offsets(series).values():
        for t, offset in offsets:
            seen = True
            if abs(offset) > limit:
                last_bad = max(last_bad, t + 0.2)
    if not seen or last_bad >= first + horizon - 0.5:
        return None
    return last_bad - first


def recovery_time(
    series: dict[str, list[tuple[float, float]]],
    member: str,
    t_end: float,
    horizon: float,
    limit: float,
) -> tuple[float | None, float]:
    """Seconds after t_end until `member` stays within `limit` of the others; the largest error."""
    last_bad, worst, seen = t_end, 0.0, False
    for (a, b), offsets in pair_offsets(series).items():
        if member not in (a, b):
            continue
        for t, offset in offsets:
            if t_end - 0.5 <= t <= t_end + horizon:
                seen = True
                worst = max(worst, abs(offset))
                if abs(offset) > limit and t >= t_end:
                    last_bad = max(last_bad, t + 0.2)
    if not seen or last_bad >= t_end + horizon - 0.5:
        return None, worst
    return last_bad - t_end, worst


def steady(
    series: dict[str, list[tuple[float, float]]], excluded: Sequence[tuple[float, float]]
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Pair offsets outside the excluded (from, to) recording intervals."""
    return {
        pair: [(t, o) for t, o in offsets if not any(a <= t <= b for a, b in excluded)]
        for pair, offsets in pair_offsets(series).items()
    }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(np.ceil(pct / 100 * len(ordered))) - 1))]


def stats_ms(values: Iterable[float]) -> dict[str, Any]:
    """n, median, p95, max of |values| in ms."""
    data = [abs(v) * 1000 for v in values]
    if not data:
        return {"n": 0}
    return {
        "n": len(data),
        "p50": round(statistics.median(data), 3),
        "p95": round(percentile(data, 95), 3),
        "max": round(max(data), 3),
    }


def drift_ms_per_min(offsets: list[tuple[float, float]]) -> float | None:
    """Slope of a pair's offset over the recording, ms per minute."""
    if len(offsets) < 3:
        return None
    t = np.array([p[0] for p in offsets])
    o = np.array([p[1] for p in offsets]) * 1000
    if t[-1] - t[0] < 5:
        return None
    return float(np.polyfit(t, o, 1)[0] * 60)
