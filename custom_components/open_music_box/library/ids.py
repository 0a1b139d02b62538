"""Stable ids of tracks and playlists, derived from paths (never from scan order).

They survive rescans and restarts: tag links, resume positions and user playlists refer to them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import PurePath
import re
from typing import Final

_DIGITS_RE: Final = re.compile(r"(\d+)")


def track_id(key: str) -> str:
    """Return the id of a track from its key (see track_key) or its URL."""
    return "t" + hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def track_key(real_path: str, real_root: str) -> str:
    """Return the relative POSIX path of a file under the root, else its absolute real path."""
    if is_under(real_path, real_root):
        return PurePath(os.path.relpath(real_path, real_root)).as_posix()
    return real_path


def folder_playlist_id(rel_dir: str) -> str:
    """Return the id of the folder playlist for a POSIX directory path relative to the root."""
    return "f" + hashlib.sha1(rel_dir.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def m3u_playlist_id(rel_path: str) -> str:
    """Return the id of the m3u playlist for a POSIX file path relative to the root."""
    return "m" + hashlib.sha1(rel_path.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def is_under(real_path: str, real_root: str) -> bool:
    """Return True when a real path is the root or inside it."""
    prefix = real_root if real_root.endswith(os.sep) else real_root + os.sep
    return real_path == real_root or real_path.startswith(prefix)


def natural_key(text: str) -> tuple[str | int, ...]:
    """Sort key that orders "2 x" before "10 x" (digits compare as numbers, case ignored)."""
    # re.split with a group alternates text/digits, so items at one index always share a type.
    parts = _DIGITS_RE.split(text.casefold())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
