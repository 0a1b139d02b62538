"""Figures of bench_sync.py from what it recorded: error between members, convergence, stall.

Pure functions, no Home Assistant. Times are server time (HA's monotonic clock, which the
satellite's reports are converted to); an error is how far a member is ahead (+) or behind (-)
of the room's timeline, in seconds. The error between members is the spread of their errors at
one instant, which needs no reference at all: the timeline only lines the samples up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
import statistics
from typing import Any

CONVERGED_SECONDS = 0.005  # "within 5 ms of each other"
SETTLE_AFTER_START_SECONDS = 1.5  # not steady state: after each start, seek and resume
SETTLE_AFTER_STALL_SECONDS = 3.0  # nor the stall and this long after it
RECOVERED_HOLD_SECONDS = 1.0  # a stalled member counts as back when it stays within 5 ms this long


@dataclass(frozen=True, slots=True)
class Phase:
    """A barrier start: everyone plays from `position` at server time `t0` (generation's T0)."""

    label: str
    kind: str  # start, seek or resume
    generation: int
    t0: float
    position: float


@dataclass(frozen=True, slots=True)
class Sample:
    """Members' errors (seconds, by member id) against the timeline at one server instant."""

    t: float
    generation: int
    errors: dict[str, float]


@dataclass
class Recording:
    """Everything the benchmark measured."""

    local_ids: list[str]
    satellite_id: str
    phases: list[Phase] = field(default_factory=list)
    local: list[Sample] = field(default_factory=list)  # every ~100 ms: the local members
    satellite: list[Sample] = field(default_factory=list)  # each report, with the locals then
    satellite_reported: list[Sample] = field(default_factory=list)  # at its reported time
    clock: list[tuple[float, float, float]] = field(default_factory=list)  # (t, offset, rtt)
    stall: tuple[str, float, float] | None = None  # member id, start, end


# Statistics -----------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: Iterable[float], digits: int = 3) -> dict[str, Any]:
    """Count, median, p95, p99 and max."""
    data = list(values)
    if not data:
        return {"n": 0}
    return {
        "n": len(data),
        "p50": round(statistics.median(data), digits),
        "p95": round(percentile(data, 95), digits),
        "p99": round(percentile(data, 99), digits),
        "max": round(max(data), digits),
    }


# Error between members ----------------------------------------------------------------


def local_spread(sample: Sample, local_ids: list[str]) -> float | None:
    """Largest difference between the local members at the sample's instant (all measured)."""
    if not all(member in sample.errors for member in local_ids):
        return None
    errors = [sample.errors[member] for member in local_ids]
    return max(errors) - min(errors)


def satellite_gap(sample: Sample, recording: Recording) -> float | None:
    """Largest |satellite - local member| at a report's instant (every local measured)."""
    if (ours := sample.errors.get(recording.satellite_id)) is None:
        return None
    if not all(member in sample.errors for member in recording.local_ids):
        return None
    return max(abs(ours - sample.errors[member]) for member in recording.local_ids)


def satellite_bias(sample: Sample, recording: Recording) -> float | None:
    """Satellite minus the mean of the local members (signed: a systematic lead or lag)."""
    if satellite_gap(sample, recording) is None:
        return None
    locals_ = [sample.errors[member] for member in recording.local_ids]
    return sample.errors[recording.satellite_id] - statistics.fmean(locals_)


def unsteady_windows(recording: Recording) -> list[tuple[float, float]]:
    """The intervals left out of steady state: after every barrier start, and the stall."""
    windows = [(phase.t0, phase.t0 + SETTLE_AFTER_START_SECONDS) for phase in recording.phases]
    if recording.stall is not None:
        _, start, end = recording.stall
        windows.append((start, end + SETTLE_AFTER_STALL_SECONDS))
    return windows


def steady(samples: list[Sample], windows: list[tuple[float, float]]) -> list[Sample]:
    """The samples outside every window."""
    return [s for s in samples if not any(start <= s.t < end for start, end in windows)]


def steady_figures(recording: Recording) -> dict[str, Any]:
    """Steady-state error between members (ms), and each member's error against the timeline."""
    windows = unsteady_windows(recording)
    local = steady(recording.local, windows)
    remote = steady(recording.satellite, windows)
    spreads = [x * 1000 for s in local if (x := local_spread(s, recording.local_ids)) is not None]
    gaps = [x * 1000 for s in remote if (x := satellite_gap(s, recording)) is not None]
    biases = [x * 1000 for s in remote if (x := satellite_bias(s, recording)) is not None]
    reported = [
        x * 1000
        for s in steady(recording.satellite_reported, windows)
        if (x := satellite_gap(s, recording)) is not None
    ]
    members: dict[str, dict[str, Any]] = {}
    for member in recording.local_ids:
        members[member] = timeline_errors([s.errors.get(member) for s in local])
    members[recording.satellite_id] = timeline_errors(
        [s.errors.get(recording.satellite_id) for s in remote]
    )
    return {
        "local": summary(spreads),
        "satellite": summary(gaps),
        "satellite_bias": summary(biases),
        "satellite_reported": summary(reported),
        "members": members,
    }


def timeline_errors(errors: list[float | None]) -> dict[str, Any]:
    """One member against the timeline: signed median and |error| percentiles, ms."""
    values = [e * 1000 for e in errors if e is not None]
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "signed_p50": round(statistics.median(values), 3),
        **{k: v for k, v in summary(abs(v) for v in values).items() if k != "n"},
    }


# After each barrier start ------------------------------------------------------------------


def phase_events(recording: Recording, phase: Phase) -> list[tuple[float, str, float]]:
    """(t, member, error) of one generation from T0 on, in time order.

    Local members from the regular samples; the satellite from its reports only (the locals
    evaluated at a report's instant would add nothing new).
    """
    events = [
        (s.t, member, error)
        for s in recording.local
        if s.generation == phase.generation and s.t >= phase.t0
        for member, error in s.errors.items()
    ]
    events += [
        (s.t, recording.satellite_id, s.errors[recording.satellite_id])
        for s in recording.satellite
        if s.generation == phase.generation and s.t >= phase.t0
    ]
    return sorted(events)


def converged_after(
    events: list[tuple[float, str, float]], members: list[str], t0: float
) -> float | None:
    """Seconds from T0 until every member's latest error is within 5 ms of the others'."""
    latest: dict[str, float] = {}
    for t, member, error in events:
        if member not in members:
            continue
        latest[member] = error
        values = list(latest.values())
        if len(latest) == len(members) and max(values) - min(values) <= CONVERGED_SECONDS:
            return t - t0
    return None


def phase_figures(recording: Recording, phase: Phase) -> dict[str, Any]:
    """First measurement of each member (its error and delay), times to converge."""
    events = phase_events(recording, phase)
    first: dict[str, tuple[float, float]] = {}
    for t, member, error in events:
        first.setdefault(member, ((t - phase.t0) * 1000, error * 1000))
    everyone = [*recording.local_ids, recording.satellite_id]
    converge_all = converged_after(events, everyone, phase.t0)
    converge_local = converged_after(events, recording.local_ids, phase.t0)
    return {
        "first": first,  # member -> (delay ms, error ms)
        "first_max_ms": max((abs(e) for _, e in first.values()), default=None),
        "converge_ms": None if converge_all is None else converge_all * 1000,
        "converge_local_ms": None if converge_local is None else converge_local * 1000,
    }


# The stall ---------------------------------------------------------------------------------


def stall_figures(recording: Recording) -> dict[str, Any] | None:
    """How long the stalled member took to be back within 5 ms (and stay), and the others' error."""
    if recording.stall is None:
        return None
    stalled, start, end = recording.stall
    after = [s for s in recording.local if s.t >= end]
    within = [
        (s.t, (x := local_spread(s, recording.local_ids)) is not None and x <= CONVERGED_SECONDS)
        for s in after
    ]
    recovered = None
    for index, (t, ok) in enumerate(within):
        held = [ok2 for t2, ok2 in within[index:] if t2 <= t + RECOVERED_HOLD_SECONDS]
        if ok and all(held) and within[-1][0] >= t + RECOVERED_HOLD_SECONDS:
            recovered = (t - end) * 1000
            break
    window_end = end + SETTLE_AFTER_STALL_SECONDS
    in_window = [s for s in recording.local if start <= s.t < window_end]
    others = [m for m in recording.local_ids if m != stalled]
    sat_window = [s for s in recording.satellite if start <= s.t < window_end]
    return {
        "member": stalled,
        "stall_ms": (end - start) * 1000,
        "recover_ms": recovered,
        "stalled_max_ms": max_abs(s.errors.get(stalled) for s in in_window),
        "others_max_ms": max_abs(s.errors.get(m) for s in in_window for m in others),
        "satellite_max_ms": max_abs(s.errors.get(recording.satellite_id) for s in sat_window),
    }


def max_abs(errors: Iterable[float | None]) -> float | None:
    """Largest |error| in ms, None when nothing was measured."""
    values = [abs(e) * 1000 for e in errors if e is not None]
    return max(values) if values else None


# Printing ----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table, '-' when unknown."""
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(title: str, rows: dict[str, dict[str, Any]], columns: list[str]) -> None:
    """Rows of figures under a title, one column per key."""
    print(f"\n{title}")
    width = max([len(name) for name in rows] + [6])
    print("  " + " " * width + "".join(f"{column:>11s}" for column in columns))
    for name, figures in rows.items():
        cells = []
        for column in columns:
            value = figures.get(column)
            cells.append(f"{value:>11d}" if isinstance(value, int) else f"{fmt(value):>11s}")
        print(f"  {name:<{width}s}" + "".join(cells))
