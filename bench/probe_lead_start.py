"""Starts made exact by a silent lead-in: where two libmpv streams of one PulseAudio sink land.

No Home Assistant: two mpv players (as the room's local members) on two remap sinks of the
ear's null sink play a file of clicks. Each trial holds both paused before a click with a fresh
`adelay` lead-in of LEAD_IN seconds of silence in front of the held position, unpauses each a
little earlier than needed (on its own thread), reads when mpv says the held position will be
heard, and inserts the difference as more silence (`af-command ... delays`, acting where the
decoder is: still inside the lead-in). The recording tells when each click was really heard.

Run:  script/bench bench/probe_lead_start.py [--trials N] [--lead-in S] [--early S]
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
import sys
import tempfile
import threading
import time
from typing import Any
import wave

import mpv
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._pulse_rig import RATE, PulseRig

OUTPUT_LATENCY = 0.1  # nominal: unpaused audio is heard about this much later (PulseAudio)


def clicks(path: Path, seconds: int = 60) -> None:
    """A click every 2 s (one sample): one per trial, nothing else to match it with."""
    signal = np.zeros(RATE * seconds, dtype=np.int16)
    signal[[int(k * RATE) for k in range(2, seconds, 2)]] = 30000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(signal.tobytes())


def heard_zero(player: Any, held: float) -> float | None:
    """Monotonic time at which position 0 would be heard, from audio-pts after a start."""
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:
        before = time.monotonic()
        pts = player.audio_pts
        after = time.monotonic()
        if pts is not None and abs(pts - held) > 1e-6 and after - before < 0.001:
            return (before + after) / 2 - float(pts)
        time.sleep(0.0002)
    return None


def onsets(channel: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(channel) > 0.3)
    return loud[np.concatenate(([True], np.diff(loud) > RATE // 10))] if loud.size else loud


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=14)
    parser.add_argument("--lead-in", type=float, default=0.5, help="silence before the held s")
    parser.add_argument("--early", type=float, default=0.03, help="unpause this much early, s")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="omb-lead-"))
    clicks(folder / "clicks.wav")
    rig = PulseRig(folder, 2)
    rig.start()
    players = [
        mpv.MPV(
            audio_device=f"pulse/{rig.sink(i)}",
            audio_stream_silence=True,
            audio_pitch_correction=False,
            pause=True,
            keep_open="yes",
            vo="null",
            video=False,
        )
        for i in range(2)
    ]
    source = str(folder / "clicks.wav")
    for player in players:
        player.play(source)
    time.sleep(1.5)
    rig.start_recording(folder / "rec.raw")
    time.sleep(1.0)
    lead_in_samples = round(args.lead_in * RATE)
    trials: list[tuple[float, float, list[float | None]]] = []
    for trial in range(args.trials):
        held = 2.0 + trial * 2 - 0.1  # a click 0.1 s after the held position
        for player in players:
            player.pause = True
            player["af"] = f"@lead:lavfi-adelay=delays={lead_in_samples}S:all=1"
            player.seek(held, "absolute+exact")
        time.sleep(0.5)
        target = time.monotonic() + 0.3 + args.lead_in + OUTPUT_LATENCY  # held heard then
        inserted: list[float | None] = [None, None]

        def start(
            index: int,
            held: float = held,
            target: float = target,
            inserted: list[float | None] = inserted,
        ) -> None:
            player: Any = players[index]
            instant = target - args.lead_in - OUTPUT_LATENCY - args.early
            while time.monotonic() < instant:
                time.sleep(0.0005 if instant - time.monotonic() > 0.002 else 0)
            player.pause = False
            zero = heard_zero(player, held)
            if zero is None:
                return
            heard = zero + held + args.lead_in  # the padding carries pts from the held position
            insert = target - heard
            inserted[index] = insert
            if insert > 0:
                # mpv reports the graph's last ENOSYS as a failure; adelay has taken it
                with contextlib.suppress(SystemError):
                    player.command("af-command", "lead", "delays", f"{round(insert * RATE)}S")
                time.sleep(0.2)
                pts = player.audio_pts
                print(
                    f"member {index}: predicted {insert * 1000:6.2f} ms early; pts 0.2 s later "
                    f"{pts}, {(time.monotonic() - target) * 1000:6.1f} ms after the target"
                )

        threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        trials.append((held + 0.1, target, inserted))
        time.sleep(args.lead_in + 0.6)
    time.sleep(0.5)
    audio = rig.stop_recording()
    for player in players:
        player.terminate()
    rig.stop()
    found = [onsets(audio[:, c]) for c in range(2)]
    diffs = []
    for click, target, inserted in trials:
        expected = (target + 0.1 - rig.record_started) * RATE
        real = [f[np.argmin(np.abs(f - expected))] for f in found]
        diff = (real[1] - real[0]) / RATE * 1000
        diffs.append(diff)
        room = [(r - expected) / RATE * 1000 for r in real]
        ins = ["-" if i is None else f"{i * 1000:6.2f}" for i in inserted]
        print(
            f"click {click:5.1f}: inserted {ins[0]} {ins[1]} ms; heard after the room"
            f" {room[0]:7.2f} {room[1]:7.2f} ms; difference {diff:6.2f} ms"
        )
    d = np.abs(np.array(diffs))
    print(f"|difference| median {np.median(d):.2f} ms, max {d.max():.2f} ms, n={d.size}")


if __name__ == "__main__":
    main()
