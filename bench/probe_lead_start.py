"""Starts made exact by a silent lead-in: where two libmpv streams of one PulseAudio sink land.

No Home Assistant: two mpv players (as the room's local members) on two remap sinks of the
ear's null sink play a file of clicks, started by the integration's own lead-in
(sync/leadin.py): each trial seeks both (all over the file) before a click, arms the lead-in's
silence, and starts each on its own thread so the held position is heard at one instant. The
recording tells when each click was really heard, and how far apart the two were.

Run:  script/bench bench/probe_lead_start.py [--trials N] [--rate HZ]
"""

from __future__ import annotations

import argparse
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
from custom_components.open_music_box.sync.leadin import LEAD_IN_SECONDS, LeadIn, warm_up

OUTPUT_LATENCY = 0.1  # nominal: unpaused audio is heard about this much later (PulseAudio)


def clicks(path: Path, seconds: int = 60, rate: int = RATE) -> None:
    """A click every 2 s (one sample): one per trial, nothing else to match it with."""
    signal = np.zeros(rate * seconds, dtype=np.int16)
    signal[[int(k * rate) for k in range(2, seconds, 2)]] = 30000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(signal.tobytes())


def onsets(channel: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(channel) > 0.3)
    return loud[np.concatenate(([True], np.diff(loud) > RATE // 10))] if loud.size else loud


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=14)
    parser.add_argument("--rate", type=int, default=RATE, help="the file's sample rate")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="omb-lead-"))
    clicks(folder / "clicks.wav", rate=args.rate)
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
    leads = [LeadIn() for _ in players]
    for player, lead in zip(players, leads, strict=True):  # as a member does after a load
        lead.arm(player)
        warm_up(player)
    trials: list[tuple[float, float, list[float | None]]] = []
    order = np.random.default_rng(7).permutation(np.arange(2, 58, 2))[: args.trials]
    for click in order.tolist():
        held = click - 0.1  # a click 0.1 s after the held position: seeks all over the file
        outputs = []
        for player, lead in zip(players, leads, strict=True):
            player.pause = True
            player.seek(held, "absolute+exact")
            time.sleep(0.3)
            lead.arm(player)
            time.sleep(0.2)
            pts = player.audio_pts
            outputs.append(0.0 if pts is None else max(0.0, held - float(pts)))
        target = time.monotonic() + 0.3 + LEAD_IN_SECONDS + OUTPUT_LATENCY  # held heard then
        heard: list[float | None] = [None, None]

        def start(
            index: int,
            held: float = held,
            target: float = target,
            heard: list[float | None] = heard,
            outputs: list[float] = outputs,
        ) -> None:
            player: Any = players[index]
            heard[index] = leads[index].start(player, held, target, outputs[index])
            time.sleep(0.4 + target - time.monotonic())
            before = time.monotonic()
            pts = player.audio_pts
            if pts is not None:
                off = leads[index].position(float(pts)) - (held + before - target)
                print(f"member {index}: pts less the lead-in, off plan {off * 1000:6.2f} ms")

        threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        trials.append((click, target, [h if h is None else h - target for h in heard]))
        time.sleep(0.3)
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
            f"click {click:5.1f}: planned late by {ins[0]} {ins[1]} ms; heard after the room"
            f" {room[0]:7.2f} {room[1]:7.2f} ms; difference {diff:6.2f} ms"
        )
    d = np.abs(np.array(diffs))
    print(f"|difference| median {np.median(d):.2f} ms, max {d.max():.2f} ms, n={d.size}")


if __name__ == "__main__":
    main()
