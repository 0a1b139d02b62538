"""Settings from the command line, the environment (OMB_*) and a TOML file, in that order."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import logging
import math
from pathlib import Path
import tomllib
from typing import Any

from . import __version__
from .errors import ConfigError

_LOGGER = logging.getLogger(__name__)

CONFIG_NAME = "config.toml"
IDENTITY_NAME = "member_id"
MAX_OFFSET_MS = 1000.0
# Setting -> environment variable; the config file uses the setting's name as its key.
ENVIRONMENT = {
    "url": "OMB_URL",
    "token": "OMB_TOKEN",
    "room": "OMB_ROOM",
    "name": "OMB_NAME",
    "audio_device": "OMB_AUDIO_DEVICE",
    "offset_ms": "OMB_OFFSET_MS",
    "ao": "OMB_AO",
    "identity": "OMB_IDENTITY",
}
FILE_KEYS = {*ENVIRONMENT, "verbose"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the satellite needs to run."""

    url: str
    token: str
    room: str
    identity: Path  # where the member id is kept
    name: str | None = None
    audio_device: str = "auto"
    offset_ms: float = 0.0
    ao: str | None = None
    verbose: bool = False
    config: Path | None = None  # the config file read, if any


def default_config(environ: Mapping[str, str]) -> Path:
    """Return $XDG_CONFIG_HOME/omb-satellite/config.toml (~/.config/... without it)."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "omb-satellite" / CONFIG_NAME


def parser() -> argparse.ArgumentParser:
    """Return the command line parser (every setting defaults to None: unset)."""
    parser = argparse.ArgumentParser(
        prog="omb-satellite",
        description="Open Music Box satellite: play a Home Assistant sync room on this machine. "
        "Each option can also come from an environment variable (OMB_URL, OMB_TOKEN, ...) "
        "or the config file (url = ..., token = ...); the command line wins, then the "
        "environment, then the file.",
    )
    add = parser.add_argument
    add(
        "--config",
        type=Path,
        help="TOML config file (env OMB_CONFIG; default: ~/.config/omb-satellite/config.toml)",
    )
    add("--url", help="Home Assistant URL, e.g. http://homeassistant.local:8123")
    add("--token", help="long-lived access token (prefer OMB_TOKEN or the config file)")
    add("--room", help="room id (the room_id attribute of the room's media player)")
    add("--name", help="member name shown in the room (default: the host name)")
    add("--audio-device", dest="audio_device", help="mpv audio device (default: auto)")
    add("--offset-ms", dest="offset_ms", help="speaker latency in ms, -1000..1000 (default: 0)")
    add("--ao", help="mpv audio output override (null plays silently)")
    add("--identity", type=Path, help="file keeping the member id (default: next to the config)")
    add("--verbose", action="store_true", default=None, help="debug logging")
    add("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(config=None)
    return parser


def _read_file(path: Path, explicit: bool) -> dict[str, Any]:
    """Return the config file's settings ({} when the default file does not exist)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as err:
        if explicit:
            raise ConfigError(f"config file {path} not found") from err
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read the config file {path}: {err}") from err
    if unknown := sorted(data.keys() - FILE_KEYS):
        raise ConfigError(f"unknown setting(s) in {path}: {', '.join(unknown)}")
    if "token" in data and path.stat().st_mode & 0o077:
        _LOGGER.warning("%s holds a token but others may read it: chmod 600 %s", path, path)
    return data


def load_settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    """Return the settings; raise ConfigError when one is missing or wrong.

    A bad command line (or --help, --version) exits through argparse, as usual.
    """
    args = vars(parser().parse_args(argv))
    explicit = args["config"] or environ.get("OMB_CONFIG")
    config = Path(explicit) if explicit else default_config(environ)
    from_file = _read_file(config, explicit=bool(explicit))
    merged: dict[str, Any] = {}
    for key in FILE_KEYS:
        env = environ.get(ENVIRONMENT.get(key, ""))
        for value in (args.get(key), env or None, from_file.get(key)):
            if value is not None:
                merged[key] = value
                break
    for key in ("url", "token", "room"):
        if not isinstance(merged.get(key), str) or not merged[key].strip():
            option = key.replace("_", "-")
            raise ConfigError(
                f"a {key} is required: --{option}, {ENVIRONMENT[key]} or {key} = ... in {config}"
            )
    for key in ("name", "audio_device", "ao", "identity"):
        if key in merged and not isinstance(merged[key], str | Path):
            raise ConfigError(f"{key} must be a string")
    if not isinstance(merged.get("verbose", False), bool):
        raise ConfigError("verbose must be true or false")
    try:
        offset_ms = float(merged.get("offset_ms", 0.0))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"offset_ms must be a number, not {merged['offset_ms']!r}") from err
    if not math.isfinite(offset_ms) or abs(offset_ms) > MAX_OFFSET_MS:
        raise ConfigError("offset_ms must be between -1000 and 1000")
    identity = merged.get("identity")
    return Settings(
        url=merged["url"].strip(),
        token=merged["token"].strip(),
        room=merged["room"].strip(),
        identity=Path(identity) if identity else config.parent / IDENTITY_NAME,
        name=merged.get("name"),
        audio_device=merged.get("audio_device", "auto"),
        offset_ms=offset_ms,
        ao=merged.get("ao"),
        verbose=bool(merged.get("verbose", False)),
        config=config if from_file else None,
    )
