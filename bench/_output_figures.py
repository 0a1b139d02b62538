"""bench_sync_output.py: figures from its recordings, and its report (numpy, no Home Assistant)."""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any

import numpy as np

from bench import _ear as ear
from bench._harness import cpu_model

SETTLE_HORIZON_SECONDS = 6.0  # a barrier's settle time is looked for this long
EXCLUDE_AFTER_BARRIER_SECONDS = 3.0
RECOVERY_HORIZON_SECONDS = 12.0


class Run:
    """What happened when (monotonic), to find it in the recording."""

    def __init__(self) -> None:
        self.barriers: list[tuple[str, float, float]] = []  # (label, T0, position)
        self.quiet: list[tuple[float, float]] = []  # paused intervals
        self.stall: tuple[float, float] | None = None
        self.stalled: str = ""


def expected_position(run: Run, mono: float) -> float | None:
    """Where the room's timeline is at monotonic `mono` (None: not playing)."""
    current = None
    for _, t0, position in run.barriers:
        if mono >= t0 - 0.2:
            current = position + (mono - t0)
    return current


def analyse_room(
    rig_started: float, data: np.ndarray, track: np.ndarray, run: Run, names: list[str]
) -> dict[str, Any]:
    """The room's figures from its recording."""
    channels = {name: data[:, i] for i, name in enumerate(names)}
    length = len(data) / 48000

    def guess(t_rec: float) -> float | None:
        return expected_position(run, t_rec + rig_started)

    series = {
        n: ear.follow(x, track, 0.0, length, guess, window=1.0, hop=0.5)
        for n, x in channels.items()
    }
    barriers = {}
    events = sorted(
        [t0 for _, t0, _ in run.barriers]
        + [a for a, _ in run.quiet]
        + ([run.stall[0]] if run.stall else [])
    )
    for label, t0, position in run.barriers:
        following = [e - t0 for e in events if e > t0 + 0.5]
        horizon = min([SETTLE_HORIZON_SECONDS, *following])
        barriers[label] = ear.barrier_figures(channels, track, t0 - rig_started, position, horizon)
    excluded = [
        (t0 - rig_started - 0.5, t0 - rig_started + EXCLUDE_AFTER_BARRIER_SECONDS)
        for _, t0, _ in run.barriers
    ]
    excluded += [(a - rig_started - 0.5, b - rig_started) for a, b in run.quiet]
    recovery: dict[str, Any] = {}
    if run.stall is not None:
        end = run.stall[1] - rig_started
        fine = {
            n: ear.follow(
                x, track, end - 1.0, end + RECOVERY_HORIZON_SECONDS, guess, window=0.2, hop=0.1
            )
            for n, x in channels.items()
        }
        for limit in (0.005, 0.001):
            seconds, worst = ear.recovery_time(
                fine, run.stalled, end, RECOVERY_HORIZON_SECONDS, limit
            )
            recovery[f"within_{limit * 1000:g}ms_s"] = seconds
            recovery["worst_ms"] = round(worst * 1000, 3)
        excluded.append((run.stall[0] - rig_started - 0.5, end + RECOVERY_HORIZON_SECONDS))
    return {
        "series": series,
        "barriers": barriers,
        "recovery": recovery,
        "steady": ear.steady(series, excluded),
    }


def analyse_snapcast(snap: dict[str, Any], track: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Snapcast's figures: steady pairs, the onset, the stalled client's recovery."""
    rig_started, fed_at, data = snap["started"], snap["fed_at"], snap["data"]
    stall: tuple[float, float] = snap["stall"]
    channels = {name: data[:, i] for i, name in enumerate(names)}
    length = len(data) / 48000
    latency = 1.3  # snapserver's buffer plus the pipe's: only a first guess for the search

    def guess(t_rec: float) -> float | None:
        return t_rec + rig_started - fed_at - latency

    series = {
        n: ear.follow(x, track, 0.0, length, guess, window=1.0, hop=0.5)
        for n, x in channels.items()
    }
    onsets = {n: ear.onset(x, 0.0, length) for n, x in channels.items()}
    found = [o for o in onsets.values() if o is not None]
    end = stall[1] - rig_started
    fine = {
        n: ear.follow(
            x, track, end - 1.0, end + RECOVERY_HORIZON_SECONDS, guess, window=0.2, hop=0.1
        )
        for n, x in channels.items()
    }
    recovery: dict[str, Any] = {}
    for limit in (0.005, 0.001):
        seconds, worst = ear.recovery_time(fine, names[-1], end, RECOVERY_HORIZON_SECONDS, limit)
        recovery[f"within_{limit * 1000:g}ms_s"] = seconds
        recovery["worst_ms"] = round(worst * 1000, 3)
    first = min(found) if found else 0.0
    excluded = [
        (0.0, first + EXCLUDE_AFTER_BARRIER_SECONDS),
        (stall[0] - rig_started - 0.5, end + RECOVERY_HORIZON_SECONDS),
    ]
    start = {}
    if len(found) == len(names):
        position = {
            n: ear.locate(channels[n], track, o, 0.1, guess=0.1, search=0.4)
            for n, o in onsets.items()
        }
        if all(p is not None for p in position.values()):
            virtual = {n: onsets[n] - position[n] for n in names}  # type: ignore[operator]
            start = {
                "onset_spread_ms": (max(found) - first) * 1000,
                "missing_ms": {n: p * 1000 for n, p in position.items()},  # type: ignore[operator]
                "first_100ms_ms": (max(virtual.values()) - min(virtual.values())) * 1000,
            }
    return {"steady": ear.steady(series, excluded), "start": start, "recovery": recovery}


# Report ------------------------------------------------------------------------------------


def pair_table(
    title: str, steady: dict[tuple[str, str], list[tuple[float, float]]]
) -> dict[str, dict[str, Any]]:
    """Print and return per pair |offset| median/p95/max (ms)."""
    rows = {f"{a} - {b}": ear.stats_ms(o for _, o in offsets) for (a, b), offsets in steady.items()}
    print(f"\n{title}")
    print(f"  {'pair':28s}{'n':>6s}{'p50':>10s}{'p95':>10s}{'max':>10s}")
    for name, row in rows.items():
        cells = "".join(f"{row.get(k, '-'):>10}" for k in ("p50", "p95", "max"))
        print(f"  {name:28s}{row.get('n', 0):>6}{cells}")
    return rows


def worst_p95(rows: dict[str, dict[str, Any]], leave_out: str | None = None) -> float | None:
    """The largest per-pair p95, leaving out pairs with `leave_out`."""
    values = [
        r["p95"]
        for n, r in rows.items()
        if "p95" in r and (leave_out is None or leave_out not in n)
    ]
    return max(values) if values else None


def conditions(load_before: float, jitter: bool, play: float, stall: float) -> dict[str, Any]:
    """What the figures were measured on (the load: other work makes them noisier)."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "load_avg_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "members": "2 local mpv + 1 satellite"
        + (" + 1 satellite behind 20±5 ms" if jitter else ""),
        "play_s_per_phase": play,
        "stall_ms": stall * 1000,
    }


def report(
    room: dict[str, Any],
    snap: dict[str, Any] | None,
    where: dict[str, Any],
    jitter: bool,
    internal: dict[str, float],
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Print the conditions and figures; the last line is RESULT {json}."""
    print("\nconditions:", json.dumps(where))
    steady = room["steady"]
    rows = pair_table("this project, steady state |offset| between members, ms", steady)
    print("\nstarts, seeks, resume (ms; settle in s):")
    for label, figures in room["barriers"].items():
        print(f"  {label:8s} {json.dumps(figures, default=lambda v: round(v, 3))}")
    print("recovery after the stall:", json.dumps(room["recovery"]))
    result: dict[str, Any] = {"load_avg_1min": where["load_avg_1min"]}
    result["pair_p95_ms"] = worst_p95(rows, "jitter-sat")
    barriers = list(room["barriers"].values())
    start = room["barriers"].get("start", {})
    result["start_spread_ms"] = start.get("onset_spread_ms")
    result["first_100ms_max_ms"] = max((b.get("first_100ms_ms", 0) for b in barriers), default=None)
    result["start_missing_ms"] = max(
        (max(b["missing_ms"].values()) for b in barriers if b.get("missing_ms")), default=None
    )
    settles = [b.get("settle_1ms_s") for b in barriers[1:]]
    result["settle_after_seek_s"] = None if None in settles or not settles else max(settles)
    settles05 = [b.get("settle_05ms_s") for b in barriers[1:]]
    result["settle_05ms_after_seek_s"] = (
        None if None in settles05 or not settles05 else max(settles05)
    )
    result["recover_s"] = room["recovery"].get("within_5ms_s")
    result["recover_1ms_s"] = room["recovery"].get("within_1ms_s")
    result["stall_worst_ms"] = room["recovery"].get("worst_ms")
    if jitter:
        jitter_pairs = {p: o for p, o in steady.items() if "jitter-sat" in p}
        result["jitter_sat_p95_ms"] = worst_p95({k: v for k, v in rows.items() if "jitter" in k})
        drifts = [d for o in jitter_pairs.values() if (d := ear.drift_ms_per_min(o)) is not None]
        result["jitter_drift_ms_per_min"] = round(float(np.mean(drifts)), 3) if drifts else None
    if snap is not None:
        snap_rows = pair_table(
            "Snapcast, steady state |offset| between clients, ms", snap["steady"]
        )
        print("Snapcast start:", json.dumps(snap["start"], default=lambda v: round(v, 3)))
        print("Snapcast recovery after the stall:", json.dumps(snap["recovery"]))
        result["snapcast_pair_p95_ms"] = worst_p95(snap_rows)
        result["snapcast_start_spread_ms"] = snap["start"].get("onset_spread_ms")
        result["snapcast_first_100ms_ms"] = snap["start"].get("first_100ms_ms")
        result["snapcast_recover_s"] = snap["recovery"].get("within_5ms_s")
        if result["pair_p95_ms"] and result["snapcast_pair_p95_ms"]:
            result["ratio_p95"] = result["pair_p95_ms"] / result["snapcast_pair_p95_ms"]
    print("internal: final speeds", json.dumps(internal))
    result.update(extra or {})  # the Sendspin members' (bench/_sendspin_figures.py)
    result = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
    print("RESULT " + json.dumps(result))
