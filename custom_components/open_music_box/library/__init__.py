"""The library folder: scanning it (scan, metadata, m3u), its stable ids, and watching it.

Everything but the watch blocks (disk I/O, mutagen): the integration runs it with
``hass.async_add_executor_job``.
"""

from __future__ import annotations

from .ids import (
    folder_playlist_id,
    is_under,
    m3u_playlist_id,
    natural_key,
    track_id,
    track_key,
)
from .m3u import M3UEntry, parse_m3u
from .metadata import (
    FileMeta,
    MetadataCache,
    read_artist_picture,
    read_cover,
    read_metadata,
)
from .scan import (
    REASON_CORRUPT,
    REASON_MISSING,
    REASON_NOT_AUDIO,
    REASON_OUTSIDE_ALLOWED,
    REASON_UNREADABLE,
    REASON_UNSUPPORTED,
    LibraryMissingError,
    scan_library,
)

__all__ = [
    "REASON_CORRUPT",
    "REASON_MISSING",
    "REASON_NOT_AUDIO",
    "REASON_OUTSIDE_ALLOWED",
    "REASON_UNREADABLE",
    "REASON_UNSUPPORTED",
    "FileMeta",
    "LibraryMissingError",
    "M3UEntry",
    "MetadataCache",
    "folder_playlist_id",
    "is_under",
    "m3u_playlist_id",
    "natural_key",
    "parse_m3u",
    "read_artist_picture",
    "read_cover",
    "read_metadata",
    "scan_library",
    "track_id",
    "track_key",
]
