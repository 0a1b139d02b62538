"""The jittery network of bench/bench_sync_output.py: namespaces and relay work and leave nothing.

Needs `ip netns` (root); skipped where network namespaces cannot be made.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading

import pytest

from bench._netns import (
    DELAY_SECONDS,
    JITTER_SECONDS,
    RELAY_ADDRESS,
    RELAY_PORT,
    Namespaces,
    Relay,
    socket_in,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


class Echo(socketserver.BaseRequestHandler):
    """Sends back what it gets."""

    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


CLIENT = """
import json, socket, sys, time
result = {}
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=2).close()
    result["loopback"] = "reached"
except OSError as err:
    result["loopback"] = type(err).__name__
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as client:
    messages = [f"{i:04d}".encode() for i in range(50)]
    for message in messages:
        client.sendall(message)
    received = b""
    while len(received) < 4 * len(messages):
        received += client.recv(4096)
    result["in_order"] = received == b"".join(messages)
    begin = time.monotonic()
    client.sendall(b"ping")
    result["pong"] = client.recv(4).decode()
    result["round_trip"] = time.monotonic() - begin
print(json.dumps(result))
"""


def test_relay_delays_both_ways_keeps_order_and_leaves_nothing_behind() -> None:
    namespaces = Namespaces(f"t{os.getpid() % 10000}")
    try:
        namespaces.create()
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"no network namespaces here: {err}")
    echo = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    serving = threading.Thread(target=echo.serve_forever, daemon=True)
    serving.start()
    relay = None
    try:
        listen = socket_in(namespaces.relay, RELAY_ADDRESS, RELAY_PORT)
        relay = Relay(listen, echo.server_address[:2])  # type: ignore[arg-type]
        relay.start()
        # A client inside the satellite's namespace reaches the relay, and nothing else.
        out = subprocess.run(
            [
                *namespaces.exec_prefix(),
                sys.executable,
                *("-c", CLIENT, RELAY_ADDRESS, str(RELAY_PORT), str(echo.server_address[1])),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        result = json.loads(out.stdout)
        assert result["loopback"] == "ConnectionRefusedError"
        assert result["in_order"]
        assert result["pong"] == "ping"
        # Each way is delayed: a round trip takes at least twice the smallest delay.
        assert result["round_trip"] >= 2 * (DELAY_SECONDS - JITTER_SECONDS) - 0.001
        assert relay.connections == 1
    finally:
        if relay is not None:
            relay.close()
        echo.shutdown()
        echo.server_close()
        namespaces.delete()
    assert not namespaces.exists()
    assert not relay.running
