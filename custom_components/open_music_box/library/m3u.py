"""m3u / m3u8 playlists: locations with what #EXTINF said about them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Final

_UTF8_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class M3UEntry:
    """One location of an m3u file with what #EXTINF said about it."""

    location: str
    title: str | None = None
    duration: float | None = None


def parse_m3u(data: bytes, *, utf8: bool) -> list[M3UEntry]:
    """Parse m3u bytes: UTF-8 (m3u8), or UTF-8 falling back to latin-1 (m3u); BOM and CRLF ok."""
    data = data.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace") if utf8 else data.decode("latin-1")
    entries: list[M3UEntry] = []
    title: str | None = None
    duration: float | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line[:8].upper() == "#EXTINF:":
                title, duration = _parse_extinf(line[8:])
            continue
        entries.append(M3UEntry(line, title, duration))
        title = duration = None
    return entries


def _parse_extinf(value: str) -> tuple[str | None, float | None]:
    """Parse "<duration>[ attributes],<title>" of an #EXTINF line."""
    head, _, title = value.partition(",")
    duration: float | None = None
    token = head.split(maxsplit=1)[0] if head.strip() else ""
    with contextlib.suppress(ValueError):
        duration = float(token)
    if duration is not None and duration <= 0:  # -1 means "unknown" (streams)
        duration = None
    return title.strip() or None, duration
