"""Snapcast on the same rig, for a same-run ratio: snapserver with a pipe source on loopback
ports only (its own config and state dirs), one `snapclient --player pulse` per remap sink."""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import signal
import subprocess
import threading
import time

import numpy as np

from bench._pulse_rig import RATE

STREAM_PORT = 17804  # loopback only; odd ports so a system snapserver is never disturbed
CONTROL_PORT = 17805
BUFFER_MS = 1000  # snapserver's default end-to-end buffer


def missing() -> str | None:
    """Name a Snapcast program that is not installed."""
    for tool in ("snapserver", "snapclient"):
        if shutil.which(tool) is None:
            return tool
    return None


@dataclass
class Snapcast:
    """The server, its clients and the thread that feeds the pipe."""

    folder: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    clients: list[subprocess.Popen[bytes]] = field(default_factory=list)
    feeder: threading.Thread | None = None
    fed_at: float = 0.0  # monotonic time the first sample of the track went into the pipe
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def fifo(self) -> Path:
        """The pipe source."""
        return self.folder / "snapfifo"

    def start(self, sinks: list[str]) -> None:
        """Start the server and one client per sink."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        os.mkfifo(self.fifo)
        config = self.folder / "snapserver.conf"
        config.write_text(
            "[server]\n"
            f"datadir = {self.folder / 'data'}\n"
            "[http]\nenabled = false\n"
            f"[tcp]\nenabled = true\nbind_to_address = 127.0.0.1\nport = {CONTROL_PORT}\n"
            f"[stream]\nbind_to_address = 127.0.0.1\nport = {STREAM_PORT}\n"
            f"source = pipe://{self.fifo}?name=bench&mode=read&sampleformat={RATE}:16:2\n"
            f"buffer = {BUFFER_MS}\ncodec = pcm\n"
            "[logging]\nfilter = *:warning\n",
            "utf-8",
        )
        log = (self.folder / "snapserver.log").open("ab")
        self.server = subprocess.Popen(
            ["snapserver", "-c", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
        )
        time.sleep(1.0)
        for index, sink in enumerate(sinks):
            client_log = (self.folder / f"snapclient{index}.log").open("ab")
            self.clients.append(
                subprocess.Popen(
                    [
                        "snapclient",
                        *("-h", "127.0.0.1", "-p", str(STREAM_PORT)),
                        *("--player", "pulse", "-s", sink),
                        *("--hostID", f"omb-bench-{index}", "-i", str(index + 1)),
                        *("--logsink", "stderr"),
                    ],
                    env={**os.environ, **self.env},
                    stdout=client_log,
                    stderr=client_log,
                    stdin=subprocess.DEVNULL,
                )
            )

    def play(self, track: np.ndarray) -> None:
        """Feed the track (16-bit stereo) into the pipe from a thread, at the reader's pace."""
        pcm = (np.clip(track, -1, 1) * 32767).astype("<i2")
        stereo = np.repeat(pcm, 2).tobytes()

        def feed() -> None:
            with self.fifo.open("wb") as pipe:
                step = RATE // 50 * 4
                self.fed_at = time.monotonic()
                for offset in range(0, len(stereo), step):
                    if self._stop.is_set():
                        return
                    try:
                        pipe.write(stereo[offset : offset + step])
                    except BrokenPipeError:
                        return

        self.feeder = threading.Thread(target=feed, daemon=True)
        self.feeder.start()

    def stall(self, index: int, seconds: float) -> tuple[float, float]:
        """SIGSTOP a client for `seconds`; return (monotonic stop, monotonic continue)."""
        client = self.clients[index]
        start = time.monotonic()
        os.kill(client.pid, signal.SIGSTOP)
        time.sleep(seconds)
        os.kill(client.pid, signal.SIGCONT)
        return start, time.monotonic()

    def stop(self) -> None:
        """Stop the clients, the feeder and the server."""
        self._stop.set()
        for process in [*self.clients, self.server]:
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.feeder is not None:
            self.feeder.join(2)
        self.clients.clear()
        self.server = None
