"""Decode a track to PCM for Sendspin (PyAV). Blocking: called in the executor only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import threading

import av
from av.audio.resampler import AudioResampler

RATE = 48_000
CHANNELS = 2
BYTES_PER_FRAME = 2 * CHANNELS  # s16 interleaved


class PcmDecoder:
    """A track decoded from a position to 48 kHz s16 stereo, read a chunk at a time."""

    def __init__(self, path: Path, position: float) -> None:
        """Initialize the PCM decoder."""
        self._container = av.open(str(path))
        stream = self._container.streams.audio[0]
        if position > 0:
            # Seek to the keyframe before; samples before `position` are dropped below.
            self._container.seek(int(position * 1_000_000), any_frame=False)
        self._resampler = AudioResampler(format="s16", layout="stereo", rate=RATE)
        self._frames: Iterator[av.AudioFrame] = self._container.decode(stream)
        self._position = position
        self._drop: int | None = None  # bytes decoded before `position`, to drop
        self._pending = bytearray()
        self._done = False
        # A cancelled feed closes the decoder while its last read may still run in the executor.
        self._lock = threading.Lock()

    def read(self, frames: int) -> bytes:
        """Return up to `frames` PCM frames; b"" at the end of the track (or once closed)."""
        with self._lock:
            return self._read(frames)

    def _read(self, frames: int) -> bytes:
        want = frames * BYTES_PER_FRAME
        while len(self._pending) < want and not self._done:
            try:
                frame = next(self._frames)
            except StopIteration:
                self._done = True
                for out in self._resampler.resample(None):
                    self._pending += bytes(out.planes[0])[: out.samples * BYTES_PER_FRAME]
                break
            if self._drop is None:
                # Exact start: drop what the keyframe seek decoded before `position`.
                pts, base = frame.pts, frame.time_base
                start = float(pts * base) if pts is not None and base is not None else 0.0
                self._drop = max(0, round((self._position - start) * RATE)) * BYTES_PER_FRAME
            for out in self._resampler.resample(frame):
                data = bytes(out.planes[0])[: out.samples * BYTES_PER_FRAME]
                if self._drop:
                    dropped = min(self._drop, len(data))
                    data = data[dropped:]
                    self._drop -= dropped
                self._pending += data
        chunk = bytes(self._pending[:want])
        del self._pending[:want]
        return chunk

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            self._done = True
            self._pending.clear()
            self._container.close()
