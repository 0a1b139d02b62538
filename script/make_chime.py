"""Write the refusal chime (children/sounds/refused.wav): two soft bell tones, 0.45 s, quiet.

Run once; the file is committed. Generated, not recorded, so it carries no licence question.
"""

from __future__ import annotations

import math
from pathlib import Path
import struct
import wave

RATE = 22050
SECONDS = 0.45
PEAK = 0.18  # of full scale: a gentle "no", not an alarm
OUT = (
    Path(__file__).resolve().parent.parent
    / "custom_components/open_music_box/children/sounds/refused.wav"
)


def sample(t: float) -> float:
    """A high tone then a lower one (a soft "uh-oh"), each with a bell's decay."""
    tone, start = (880.0, 0.0) if t < 0.18 else (660.0, 0.18)
    local = t - start
    attack = min(1.0, local / 0.01)
    decay = math.exp(-local * 9.0)
    return PEAK * attack * decay * math.sin(2 * math.pi * tone * local)


def main() -> None:
    """Write the file."""
    frames = b"".join(
        struct.pack("<h", round(32767 * sample(i / RATE))) for i in range(int(RATE * SECONDS))
    )
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


if __name__ == "__main__":
    main()
