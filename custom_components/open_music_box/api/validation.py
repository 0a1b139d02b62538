"""Field validators shared by the actions and the WebSocket commands (one rule for both)."""

from __future__ import annotations

import math
import re
from typing import Any

import voluptuous as vol

from ..catalog import MAX_NAME_LENGTH, validation_error
from ..const import PLAYLIST_PREFIX

MAX_TRACKS_PER_CALL = 10_000
MAX_ID_LENGTH = 64
MAX_REF_LENGTH = max(MAX_NAME_LENGTH, len(PLAYLIST_PREFIX) + MAX_ID_LENGTH)

# C0/C1 controls and DEL, and the bidi overrides/isolates that let a name display as another.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_name(value: Any, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """Return the trimmed name, or None: no string, empty, too long or with control characters."""
    if not isinstance(value, str) or _FORBIDDEN.search(value):
        return None
    clean = value.strip()
    return clean if 1 <= len(clean) <= max_length else None


def string(value: Any) -> str:
    """Accept a string only: cv.string would turn `true` or `1e308` into one."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    return value


def name(value: Any) -> str:
    """Accept a playlist (or import) name: a string of 1-100 printable characters, trimmed.

    A string that is no name gets its own translated error (not voluptuous' generic one).
    """
    if (clean := clean_name(string(value))) is None:
        raise validation_error("invalid_playlist_name", max=str(MAX_NAME_LENGTH))
    return clean


def integer(value: Any) -> int:
    """Accept an integer only: voluptuous' `int` lets `true` through (bool is an int)."""
    if type(value) is not int:
        raise vol.Invalid("expected an integer")
    return value


def finite(value: Any) -> float:
    """Accept a finite number only: not a bool, not a numeric string."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    return float(value)


def boolean(value: Any) -> bool:
    """Accept true or false only (not "yes", not 1)."""
    if type(value) is not bool:
        raise vol.Invalid("expected a boolean")
    return value


def playlist_ref(value: Any) -> str:
    """Accept a playlist as an id, a `playlist:<id>` media id, a name, or a media selector's dict.

    Only the shape is checked here; api/resolve.py finds the playlist on the box.
    """
    if isinstance(value, dict):
        value = value.get("media_content_id")
    if (clean := clean_name(string(value), MAX_REF_LENGTH)) is None:
        raise vol.Invalid(f"expected a playlist id or name of 1 to {MAX_REF_LENGTH} characters")
    return clean


ID_SCHEMA = vol.All(string, vol.Length(min=1, max=MAX_ID_LENGTH))
IDS = vol.All([ID_SCHEMA], vol.Length(max=MAX_TRACKS_PER_CALL))
NAME = name
PLAYLIST = playlist_ref
POSITION = vol.All(integer, vol.Range(min=0, max=MAX_TRACKS_PER_CALL))
