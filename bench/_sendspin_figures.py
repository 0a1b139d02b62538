"""The Sendspin members' figures against the local mpv members (numpy, no Home Assistant).

A member's offset at an instant is its track position minus the local members' mean: positive
is early (ahead of the room), negative late. Its p95 is the largest per-pair |offset| p95
against each local member in steady state; its start offset is when it would have sounded the
barrier's position, against the local members' mean (positive: it started late).
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import re
from typing import Any

import numpy as np

from bench import _ear as ear
from bench._output_figures import Run, expected_position

LOCALS = ("local0", "local1")
MEMBERS = ("sendspin", "browser")
SKIP_AFTER_START_SECONDS = 3.0
CALIBRATION_SKIP_SECONDS = 5.0  # the daemon's rate correction converges after a start
WINDOW = 0.1  # short: the players correct their rate (~0.1-0.2 %), a longer window smears
MIN_QUALITY = 0.4  # for the same reason (the ear's is 0.5, for 1 s windows of steady players)


@contextlib.contextmanager
def tolerant() -> Iterator[None]:
    """Accept a lower correlation while the Sendspin members are followed."""
    kept = ear.MIN_QUALITY
    ear.MIN_QUALITY = MIN_QUALITY
    try:
        yield
    finally:
        ear.MIN_QUALITY = kept


def signed_offsets(
    data: np.ndarray,
    names: list[str],
    started: float,
    track: np.ndarray,
    run: Run,
    *,
    t_from: float,
    members: list[str],
) -> dict[str, list[float]]:
    """Per Sendspin member, its offsets (s) to the local members' mean from t_from on."""
    channels = {n: data[:, names.index(n)] for n in [*LOCALS, *members]}
    length = len(data) / ear.RATE

    def guess(t_rec: float) -> float | None:
        return expected_position(run, t_rec + started)

    with tolerant():
        series = {
            n: dict(ear.follow(x, track, t_from, length, guess, window=WINDOW, hop=WINDOW))
            for n, x in channels.items()
        }
    out: dict[str, list[float]] = {}
    for name in members:
        common = set(series[name]).intersection(*(series[n] for n in LOCALS))
        out[name] = [
            series[name][t] - float(np.mean([series[n][t] for n in LOCALS])) for t in sorted(common)
        ]
    return out


def calibration(
    data: np.ndarray,
    names: list[str],
    started: float,
    track: np.ndarray,
    run: Run,
    *,
    members: list[str],
) -> dict[str, dict[str, Any]]:
    """Each member's offset in the calibration phase (median, p95 of |offset|), ms."""
    t_from = run.barriers[0][1] - started + CALIBRATION_SKIP_SECONDS
    figures = {}
    for name, offsets in signed_offsets(
        data, names, started, track, run, t_from=t_from, members=members
    ).items():
        if not offsets:
            figures[name] = {"n": 0}
            continue
        figures[name] = {
            "n": len(offsets),
            "median_ms": round(float(np.median(offsets)) * 1000, 3),
            "p95_abs_ms": round(ear.percentile([abs(o) for o in offsets], 95) * 1000, 3),
        }
    return figures


def corrections_ms(
    figures: dict[str, dict[str, Any]], current_ms: dict[str, float]
) -> dict[str, float]:
    """New static offsets: a member heard early is fed later, one heard late earlier."""
    return {
        name: current_ms.get(name, 0.0) - row["median_ms"]
        for name, row in figures.items()
        if row.get("n")
    }


def start_offsets_ms(
    data: np.ndarray, names: list[str], started: float, track: np.ndarray, run: Run
) -> dict[str, dict[str, float | None]]:
    """Per barrier and member: when it would have sounded the barrier's position, against the
    local members (ms, positive: late)."""
    out: dict[str, dict[str, float | None]] = {}
    for label, t0, position in run.barriers:
        t_rec = t0 - started
        virtual: dict[str, float | None] = {}
        for name in names:
            found = ear.start_of(
                data[:, names.index(name)], track, t_rec - 0.4, t_rec + 0.8, position
            )
            virtual[name] = None if found is None else found.onset - (found.position - position)
        locals_ = [v for n, v in virtual.items() if n in LOCALS and v is not None]
        out[label] = {
            n: None if v is None or not locals_ else round((v - float(np.mean(locals_))) * 1000, 3)
            for n, v in virtual.items()
            if n not in LOCALS
        }
    return out


def settled_ms(
    series: dict[str, list[tuple[float, float]]], members: list[str], run: Run, started: float
) -> dict[str, dict[str, float | None]]:
    """Per phase and member: its median offset in the phase's last 3 s (where it converged to)."""
    ends = sorted(
        [t0 for _, t0, _ in run.barriers[1:]]
        + [a for a, _ in run.quiet]
        + ([run.stall[0]] if run.stall else [])
    )
    located = {n: dict(points) for n, points in series.items()}
    out: dict[str, dict[str, float | None]] = {}
    for label, t0, _ in run.barriers:
        end = next((e for e in ends if e > t0 + 0.5), None)
        if end is None:
            end = started + max(t for t, _ in series[LOCALS[0]]) if series[LOCALS[0]] else t0
        a, b = end - started - 3.0, end - started - 0.2
        row: dict[str, float | None] = {}
        for name in members:
            offsets = [
                p - float(np.mean([located[n][t] for n in LOCALS]))
                for t, p in located[name].items()
                if a <= t <= b and all(t in located[n] for n in LOCALS)
            ]
            row[name] = round(float(np.median(offsets)) * 1000, 2) if offsets else None
        out[label] = row
    return out


def analyse_members(
    started: float, data: np.ndarray, track: np.ndarray, run: Run, names: list[str]
) -> dict[str, Any]:
    """Steady-state p95 against the local members, the signed median, the start offsets.

    Short windows (0.1 s): on a loaded machine a 1 s window often holds an underrun, and a
    window with a jump in it does not match the track.
    """
    members = [n for n in names if n not in LOCALS and n in MEMBERS]
    picked = [*LOCALS, *members]
    length = len(data) / ear.RATE

    def guess(t_rec: float) -> float | None:
        return expected_position(run, t_rec + started)

    with tolerant():
        series = {
            n: ear.follow(
                data[:, names.index(n)], track, 0.0, length, guess, window=WINDOW, hop=WINDOW
            )
            for n in picked
        }
    excluded = [
        (t0 - started - 0.5, t0 - started + SKIP_AFTER_START_SECONDS) for _, t0, _ in run.barriers
    ]
    excluded += [(a - started - 0.5, b - started) for a, b in run.quiet]
    if run.stall is not None:  # the satellite's stall: the room's corrections move then
        excluded.append((run.stall[0] - started - 0.5, run.stall[1] - started + 1.0))
    steady = ear.steady(series, excluded)
    figures: dict[str, Any] = {}
    for name in members:
        pairs = {
            p: o for p, o in steady.items() if name in p and (p[0] in LOCALS or p[1] in LOCALS)
        }
        rows = {p: ear.stats_ms(o for _, o in offsets) for p, offsets in pairs.items()}
        signed = [o if p[0] == name else -o for p, offsets in pairs.items() for _, o in offsets]
        figures[name] = {
            "p95_ms": max((float(r["p95"]) for r in rows.values() if "p95" in r), default=None),
            "median_signed_ms": round(float(np.median(signed)) * 1000, 3) if signed else None,
            "n": sum(r.get("n", 0) for r in rows.values()),
        }
    local_pair = ear.stats_ms(o for _, o in steady.get(LOCALS, []))
    figures["local_pair_p95_ms"] = local_pair.get("p95")
    figures["settled_ms"] = settled_ms(series, members, run, started)
    figures["start_offsets_ms"] = start_offsets_ms(
        data[:, [names.index(n) for n in picked]], picked, started, track, run
    )
    return figures


def report_members(
    before: dict[str, dict[str, Any]],
    offsets_ms: dict[str, float],
    after: dict[str, Any],
    reported_latency_ms: float | None,
) -> dict[str, Any]:
    """Print before/after; return the RESULT's fields."""
    print("\nSendspin members against the local mpv members (ms; + early / late at starts):")
    print(f"  daemon's reported output latency (PortAudio via ALSA pulse): {reported_latency_ms}")
    print(f"  calibration phase (offset 0): {before}")
    print(f"  static offsets applied: {offsets_ms}")
    whole = {k: v for k, v in after.items() if k not in {"start_offsets_ms", "settled_ms"}}
    print(f"  after, whole run: {whole}")
    print("  (0.1 s windows; the local pair's p95 on the same windows is local_pair_p95_ms)")
    print(f"  start offsets per barrier (+ late): {after['start_offsets_ms']}")
    print(f"  where each phase ended (median of its last 3 s, + early): {after['settled_ms']}")
    result: dict[str, Any] = {
        "sendspin_daemon_reported_latency_ms": reported_latency_ms,
        "local_pair_p95_ms_02s": after["local_pair_p95_ms"],
    }
    for name, key in (("sendspin", "sendspin_daemon"), ("browser", "browser")):
        if name not in after:
            continue
        result[f"{key}_p95_ms"] = after[name]["p95_ms"]
        result[f"{key}_median_ms"] = after[name]["median_signed_ms"]
        result[f"{key}_start_offset_ms"] = after["start_offsets_ms"].get("start", {}).get(name)
        result[f"{key}_before_p95_ms"] = before.get(name, {}).get("p95_abs_ms")
        result[f"{key}_before_median_ms"] = before.get(name, {}).get("median_ms")
        result[f"{key}_offset_applied_ms"] = offsets_ms.get(name)
    return result


# What the players believe (their logs) ----------------------------------------------------


def reported_latency_ms(log: str) -> float | None:
    """The output latency the daemon reports (PortAudio's, through ALSA's pulse plugin)."""
    found = re.findall(r"output_latency=([\d.]+) ms", log)
    return float(found[-1]) if found else None


def daemon_view(log: str) -> dict[str, Any]:
    """The daemon's filtered sync error (against its DAC time, i.e. the delay PortAudio reports
    through ALSA's pulse plugin) and its speed, once a second in its debug log."""
    found = re.findall(r"Sync error: (-?[\d.]+) ms, buffer: [\d.]+ s, speed: ([\d.]+)%", log)
    if not found:
        return {}
    errors = [float(e) for e, _ in found]
    speeds = [float(v) for _, v in found]
    return {
        "seconds": len(found),
        "sync_error_median_ms": round(float(np.median(errors)), 2),
        "abs_sync_error_p95_ms": round(float(np.percentile(np.abs(errors), 95)), 2),
        "at_max_speed_share": round(sum(abs(v - 100) >= 0.19 for v in speeds) / len(speeds), 2),
        "reanchors": log.count("scheduling reanchor") + log.count("requesting re-anchor"),
    }


def browser_view(lines: list[str]) -> dict[str, Any]:
    """sendspin-js's own sync error and the output latency it assumes (its console)."""
    found = [
        (float(m[1]), float(m[2]))
        for line in lines
        if (m := re.search(r"sync=([+-]?[\d.]+)ms.* lat=([\d.]+)ms", line))
    ]
    if not found:
        return {}
    fixed = [float(m[1]) for line in lines if (m := re.search(r"fixed delay ([\d.]+) ms", line))]
    return {
        "fixed_delay_ms": fixed,  # the card's (Listen here reads the latency once)
        "reports": len(found),
        "sync_median_ms": round(float(np.median([f[0] for f in found])), 2),
        "output_latency_ms": sorted({f[1] for f in found}),  # its reading, used only if not fixed
        "corrections": sorted({c for line in lines for c in re.findall(r"corr=(\S+)", line)}),
    }
