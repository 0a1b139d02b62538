"""The satellite's errors and exit codes."""

from __future__ import annotations

EXIT_OK = 0  # stopped, or no longer a member of the room
EXIT_AUTH = 1  # Home Assistant refused the token
EXIT_ROOM = 2  # no such room (or it was removed); also a bad command line or config
EXIT_PROTOCOL = 3  # the integration does not speak this satellite's protocol version


class SatelliteError(Exception):
    """Base of the satellite's own errors."""


class FatalError(SatelliteError):
    """Stop for good (bad token, no such room, removed): retrying cannot help."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConnectionLost(SatelliteError):
    """The session ended; reconnect after a backoff."""


class CommandError(SatelliteError):
    """HA answered a command with an error result (its message is translated)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConfigError(SatelliteError):
    """The command line, the environment or the config file is wrong."""
