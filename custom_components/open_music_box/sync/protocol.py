"""The version of the satellite protocol (the WebSocket commands in sync/websocket.py).

Pure Python without Home Assistant: the satellite package ships this very file, so a satellite
sends the version it was built with and the integration refuses one it cannot serve (HACS may
update the integration long after the satellites were installed). Bump PROTOCOL on a change that
an older satellite cannot follow, and keep the versions still served in COMPATIBLE.
"""

from __future__ import annotations

PROTOCOL = 1  # what this side speaks
COMPATIBLE = frozenset({1})  # what the integration accepts on join
