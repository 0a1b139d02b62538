"""An import job from a URL: its states, its target, and how clients see it."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.debounce import Debouncer

from ..catalog import validation_error
from ..const import DOMAIN
from .fetch import FetchControl, Progress

PROGRESS_INTERVAL = 0.5  # seconds: at most 2 progress events per second per job
MAX_URL_LENGTH = 2048
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
HIDDEN = "***"
MIN_SECRET = 4


class JobState(StrEnum):
    """Where a job is."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TargetKind(StrEnum):
    """What the files are imported into."""

    NEW = "new"  # a new folder (a new folder playlist) named after the playlist name
    FOLDER = "folder"  # an existing folder playlist: the files go into its folder
    USER = "user"  # a playlist of your own: files in <library>/Imports, ids appended


@dataclass(slots=True, eq=False)
class ImportJob:
    """One import and what clients see of it (`as_dict`)."""

    job_id: str
    url: str
    kind: TargetKind
    target_playlist_id: str | None
    playlist_name: str | None  # the name of the new playlist (TargetKind.NEW)
    created_at: datetime
    control: FetchControl
    state: JobState = JobState.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    bytes: int = 0
    total: int | None = None
    percent: float | None = None
    speed: float | None = None
    playlist_id: str | None = None
    tracks: list[str] = field(default_factory=list)
    converted: bool | None = None
    note_key: str | None = None
    note: str | None = None
    error: str | None = None
    message: str | None = None
    placeholders: dict[str, str] = field(default_factory=dict)
    # Run time only
    task: asyncio.Task[None] | None = None
    latest: Progress | None = None  # written by the worker thread
    wakeup_pending: bool = False
    progress: Debouncer[None] | None = None  # at most one progress event per PROGRESS_INTERVAL

    @property
    def finished(self) -> bool:
        """Return True once the job completed, failed or was cancelled."""
        return self.state not in (JobState.QUEUED, JobState.RUNNING)

    def as_dict(self) -> dict[str, Any]:
        """Describe the job for clients, events and actions: no credentials, no query string.

        `url` keeps the real URL for the download; everyone (a non-admin too) sees
        scheme://host/path, and the same goes for URLs quoted in error texts.
        """

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        def clean(text: str | None) -> str | None:
            return None if text is None else scrub(text, self.url)

        return {
            "job_id": self.job_id,
            "url": public_url(self.url),
            "state": self.state.value,
            "playlist_name": self.playlist_name,
            "target_playlist_id": self.target_playlist_id,
            "playlist_id": self.playlist_id,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "bytes": self.bytes,
            "total": self.total,
            "percent": self.percent,
            "speed": self.speed,
            "tracks": list(self.tracks),
            "converted": self.converted,
            "note_key": self.note_key,
            "note": clean(self.note),
            "error": self.error,
            "message": clean(self.message),
            "placeholders": {
                key: scrub(value, self.url) for key, value in self.placeholders.items()
            },
        }


def public_url(url: str) -> str:
    """Return scheme://host[:port]/path of a URL: user, password, query and fragment dropped."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL we can take apart: show nothing of it
        return HIDDEN
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, url: str) -> str:
    """Hide the secrets a text (a yt-dlp error) quotes: URLs become their public_url.

    The job URL's password, query and query values are also hidden where they appear on
    their own (a very short one is left: replacing it would garble the text).
    """
    text = _URL_RE.sub(lambda match: public_url(match.group(0)), text)
    secrets: list[str] = []
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        values = [value for _key, value in parse_qsl(parts.query)]
        found = (parts.password, parts.query, *values)
        secrets = [s for s in found if s and len(s) >= MIN_SECRET]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def valid_url(url: str) -> str:
    """Return the URL trimmed; refuse anything but a well-formed http(s) URL."""
    clean = url.strip()
    try:
        parts = urlsplit(clean)
        host = parts.hostname
    except ValueError:  # e.g. a broken IPv6 address
        host = None
    if (
        not host
        or len(clean) > MAX_URL_LENGTH
        or parts.scheme.lower() not in ("http", "https")
        or any(char.isspace() or not char.isprintable() for char in clean)
    ):
        # Echoed to the caller and maybe logged: without its credentials and query either.
        raise validation_error("import_invalid_url", url=scrub(clean, clean)[:200])
    return clean


def message(key: str, placeholders: dict[str, str] | None = None) -> str:
    """Return the English text of a translation key (clients translate the key themselves)."""
    return str(
        HomeAssistantError(
            translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
        )
    )
