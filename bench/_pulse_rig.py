"""The ear (DESIGN.md §7): a private PulseAudio daemon that records every member on its own channel.

One null sink of N channels (aux0..auxN-1) and one mono remap sink per member (m0..mN-1), each
reaching only its own channel of the null sink; one `parec` of the null sink's monitor, with the
channel map given explicitly (or pulse remixes), holds every member with one clock.
The daemon runs with its own runtime dir and socket (never the user's), torn down by stop().
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import subprocess
import threading
import time
import wave

import numpy as np

RATE = 48000
START_TIMEOUT_SECONDS = 10.0


def tool_missing() -> str | None:
    """Name the first tool the rig needs that is not installed (script/bench installs them)."""
    for tool in ("pulseaudio", "pactl", "parec", "paplay", "pacat"):
        if shutil.which(tool) is None:
            return tool
    return None


@dataclass
class PulseRig:
    """The daemon, its sinks, and the recording of the null sink's monitor."""

    folder: Path
    channels: int
    process: subprocess.Popen[bytes] | None = None
    recorder: subprocess.Popen[bytes] | None = None
    keepalive: subprocess.Popen[bytes] | None = None
    _reader: threading.Thread | None = None
    recording: Path | None = None
    record_started: float = 0.0  # monotonic time parec was started
    env: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        """The daemon's native-protocol socket."""
        return self.folder / "run" / "native"

    def sink(self, index: int) -> str:
        """The remap sink of member `index`."""
        return f"m{index}"

    @property
    def channel_map(self) -> str:
        """The null sink's channel map, as parec must be told it."""
        return ",".join(f"aux{i}" for i in range(self.channels))

    def start(self) -> dict[str, str]:
        """Start the daemon; return the environment that reaches it (also set in os.environ)."""
        run = self.folder / "run"
        run.mkdir(parents=True, exist_ok=True)
        lines = [
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
            f"load-module module-null-sink sink_name=rig channels={self.channels}"
            f" channel_map={self.channel_map} rate={RATE} format=float32le",
        ]
        lines += [
            f"load-module module-remap-sink sink_name={self.sink(i)} master=rig channels=1"
            f" channel_map=mono master_channel_map=aux{i} remix=no"
            for i in range(self.channels)
        ]
        script = self.folder / "rig.pa"
        script.write_text("\n".join(lines) + "\n", "utf-8")
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(run),
            "PULSE_STATE_PATH": str(self.folder / "state"),
            "PULSE_COOKIE": str(self.folder / "cookie"),
        }
        env = {**os.environ, **self.env, "HOME": str(self.folder), "XDG_RUNTIME_DIR": str(run)}
        log = (self.folder / "pulseaudio.log").open("ab")
        self.process = subprocess.Popen(
            [
                "pulseaudio",
                *("-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1"),
                *("--use-pid-file=no", "--log-target=stderr", "--realtime=no"),
            ],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("pulseaudio exited: see " + str(self.folder / "pulseaudio.log"))
            if self.socket.exists() and self.pactl("list", "short", "sinks").count("\n") > 0:
                os.environ.update(self.env)
                self._keep_running()
                return self.env
            time.sleep(0.1)
        raise RuntimeError("pulseaudio did not start")

    def _keep_running(self) -> None:
        """Play silence into the null sink for good: an idle sink gives its monitor nothing, and
        the recording would lose the silences (its time would no longer be the sink's)."""
        self.keepalive = subprocess.Popen(
            [
                "pacat",
                "--playback",
                "--device=rig",
                f"--channels={self.channels}",
                f"--channel-map={self.channel_map}",
                f"--rate={RATE}",
                "--format=float32le",
                "--raw",
                "--latency-msec=20",
                "/dev/zero",
            ],
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
        )

    def pactl(self, *args: str) -> str:
        """Run pactl against our daemon."""
        result = subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return result.stdout

    def start_recording(self, path: Path) -> None:
        """Record the null sink's monitor, every channel, float32 raw, from a reader thread.

        Each chunk's arrival is timestamped: the earliest (arrival - samples before it / RATE)
        is the monotonic time of the first sample (parec may take a second to start).
        """
        self.recording = path
        self.recorder = subprocess.Popen(
            [
                "parec",
                "--device=rig.monitor",
                f"--channels={self.channels}",
                f"--channel-map={self.channel_map}",
                f"--rate={RATE}",
                "--format=float32le",
                "--raw",
                "--latency-msec=50",
            ],
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        self.record_started = float("inf")
        self._reader = threading.Thread(target=self._read, args=(self.recorder, path))
        self._reader.start()

    def _read(self, recorder: subprocess.Popen[bytes], path: Path) -> None:
        frame = 4 * self.channels
        received = 0
        assert recorder.stdout is not None
        with path.open("wb") as out:
            while chunk := recorder.stdout.read1(65536):
                arrived = time.monotonic()
                received += len(chunk)
                out.write(chunk)
                self.record_started = min(self.record_started, arrived - received / frame / RATE)

    def stop_recording(self) -> np.ndarray:
        """Stop parec; return the recording, shape (samples, channels)."""
        if self.recorder is not None:
            self.recorder.terminate()
            self.recorder.wait(10)
            self.recorder = None
        if self._reader is not None:
            self._reader.join(10)
            self._reader = None
        assert self.recording is not None
        data = np.fromfile(self.recording, dtype="<f4")
        return data[: len(data) // self.channels * self.channels].reshape(-1, self.channels)

    def recorded_seconds(self) -> float:
        """Seconds recorded so far (from the file's size)."""
        if self.recording is None or not self.recording.exists():
            return 0.0
        return self.recording.stat().st_size / (4 * self.channels * RATE)

    def check_channels(self, tone: Path) -> list[str]:
        """Play a tone to each sink in turn; return the problems (each sink only on its channel)."""
        problems = []
        for index in range(self.channels):
            path = self.folder / f"tone{index}.raw"
            self.start_recording(path)
            time.sleep(0.2)
            subprocess.run(
                ["paplay", f"--device={self.sink(index)}", str(tone)],
                env={**os.environ, **self.env},
                check=False,
                timeout=10,
            )
            time.sleep(0.2)
            data = self.stop_recording()
            energy = np.sqrt(np.mean(data**2, axis=0)) if len(data) else np.zeros(self.channels)
            loudest = int(np.argmax(energy))
            others = np.delete(energy, index)
            if loudest != index or energy[index] < 0.01 or (others > energy[index] * 1e-3).any():
                problems.append(f"sink {self.sink(index)} reached channels {energy.round(4)}")
            path.unlink(missing_ok=True)
        self.recording = None
        return problems

    def stop(self) -> None:
        """Stop the recorder, the silence and the daemon."""
        for process in (self.recorder, self.keepalive):
            if process is not None:
                process.kill()
                process.wait()
        self.recorder = self.keepalive = None
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        for key in self.env:
            os.environ.pop(key, None)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """Write mono float samples (-1..1) as 16-bit WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def noise(seconds: float, seed: int = 13) -> np.ndarray:
    """Band-limited noise (300-3000 Hz), never periodic: one peak in any cross-correlation."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3000)] = 0
    signal = np.fft.irfft(spectrum, n)
    return (signal / np.max(np.abs(signal)) * 0.5).astype(np.float32)


def tone(seconds: float = 0.3, freq: float = 1000.0) -> np.ndarray:
    """A sine for the channel check."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
