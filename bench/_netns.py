"""A jittery network without netem: a satellite in a network namespace that reaches Home Assistant
only through a relay delaying each direction by 20 ± 5 ms (order kept).

Two namespaces made here (satellite side, relay side) joined by a veth pair; addresses exist only
inside them. The relay listens inside the relay namespace (its socket is made by a thread that
entered it) and connects to Home Assistant on loopback from the bench's own namespace.
Everything is torn down by close(): the namespaces (with the veth), the relay's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import threading
import time

SATELLITE_ADDRESS = "10.213.7.2"
RELAY_ADDRESS = "10.213.7.1"
RELAY_PORT = 18123
DELAY_SECONDS = 0.020
JITTER_SECONDS = 0.005


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class Namespaces:
    """The satellite's and the relay's namespaces, joined by a veth pair."""

    def __init__(self, tag: str) -> None:
        self.satellite = f"omb-sat-{tag}"
        self.relay = f"omb-relay-{tag}"
        self._veth = (f"ombs{tag}"[:15], f"ombr{tag}"[:15])
        self.up = False

    def create(self) -> None:
        """Make both namespaces and the link; raise CalledProcessError when not allowed."""
        try:
            _ip("netns", "add", self.satellite)
            _ip("netns", "add", self.relay)
            sat_if, relay_if = self._veth
            _ip(
                "link",
                "add",
                sat_if,
                "netns",
                self.satellite,
                "type",
                "veth",
                "peer",
                "name",
                relay_if,
                "netns",
                self.relay,
            )
            for ns, dev, address in (
                (self.satellite, sat_if, SATELLITE_ADDRESS),
                (self.relay, relay_if, RELAY_ADDRESS),
            ):
                _ip("-n", ns, "addr", "add", f"{address}/30", "dev", dev)
                _ip("-n", ns, "link", "set", "dev", dev, "up")
                _ip("-n", ns, "link", "set", "dev", "lo", "up")
            self.up = True
        except BaseException:
            self.delete()
            raise

    def exec_prefix(self) -> list[str]:
        """The command prefix that runs a program inside the satellite's namespace."""
        return ["ip", "netns", "exec", self.satellite]

    def delete(self) -> None:
        """Remove both namespaces (the veth pair goes with them)."""
        for ns in (self.satellite, self.relay):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False, timeout=10)
        self.up = False

    def exists(self) -> bool:
        """True while either namespace is still there."""
        listed = subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=False
        )
        return self.satellite in listed.stdout or self.relay in listed.stdout


def socket_in(namespace: str, address: str, port: int) -> socket.socket:
    """A listening TCP socket inside `namespace` (made by a thread that enters it)."""
    result: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            with open(f"/run/netns/{namespace}", "rb") as handle:
                os.setns(handle.fileno(), os.CLONE_NEWNET)  # this thread only
            result.append(socket.create_server((address, port)))
        except BaseException as err:  # handed to the caller
            result.append(err)

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if isinstance(made := result[0], BaseException):
        raise made
    return made


class Relay:
    """A TCP proxy in its own thread and event loop: each chunk delivered 20 ± 5 ms later."""

    def __init__(self, listen: socket.socket, target: tuple[str, int], seed: int = 7) -> None:
        self._listen = listen
        self._target = target
        self._random = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self.connections = 0

    def delay(self) -> float:
        """One chunk's delay."""
        return DELAY_SECONDS + self._random.uniform(-JITTER_SECONDS, JITTER_SECONDS)

    def start(self) -> None:
        """Serve in a thread of its own."""
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), daemon=True)
        self._thread.start()
        ready.wait(5)

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._handle, sock=self._listen)
        ready.set()
        async with server:
            await self._stopped.wait()
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except ConnectionError:
            pass  # one side hung up: close both
        finally:
            for w in (writer, up_writer):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    writer.close()
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        last_due = 0.0
        try:
            while data := await reader.read(65536):
                last_due = max(time.monotonic() + self.delay(), last_due)  # order kept
                queue.put_nowait((last_due, data))
            queue.put_nowait((last_due, b""))
            await sender
        finally:
            sender.cancel()

    @property
    def running(self) -> bool:
        """True while the relay's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._stopped is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(5)
        self._listen.close()
