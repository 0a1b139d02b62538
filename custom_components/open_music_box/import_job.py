"""An import job from a URL: its states, its target, and how clients see it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from homeassistant.exceptions import HomeAssistantError

from .catalog import validation_error
from .const import DOMAIN
from .import_fetch import FetchControl, Progress

PROGRESS_INTERVAL = 0.5  # seconds: at most 2 progress events per second per job
MAX_URL_LENGTH = 2048


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
    progress_timer: asyncio.TimerHandle | None = None
    last_progress_at: float = -PROGRESS_INTERVAL

    @property
    def finished(self) -> bool:
        """Return True once the job completed, failed or was cancelled."""
        return self.state not in (JobState.QUEUED, JobState.RUNNING)

    def as_dict(self) -> dict[str, Any]:
        """Describe the job for clients, events and actions."""

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "job_id": self.job_id,
            "url": self.url,
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
            "note": self.note,
            "error": self.error,
            "message": self.message,
            "placeholders": dict(self.placeholders),
        }


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
        raise validation_error("import_invalid_url", url=clean[:200])
    return clean


def message(key: str, placeholders: dict[str, str] | None = None) -> str:
    """Return the English text of a translation key (clients translate the key themselves)."""
    return str(
        HomeAssistantError(
            translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
        )
    )
