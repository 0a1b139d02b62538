"""The records of tags.py: tag ids (secrets), the last scan a box heard, association sessions.

Also what tags.py asks of the children's parts: which readers the box hears, and whether the
children's rules let a tag play.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import hashlib
from typing import Any, Protocol
import uuid

from homeassistant.core import CALLBACK_TYPE

from .catalog import validation_error
from .storage import StoredTagLink

# A state holds at most 255 characters: any accepted tag id fits in a sensor's state.
MAX_TAG_ID_LENGTH = 255
TARGET_BOX = "box"  # a link's target; otherwise the target is a sync room's id


class SessionState(StrEnum):
    """States of an association session; the box keeps it only while it is open (first two)."""

    WAITING = "waiting"
    DUPLICATE = "duplicate"  # the scanned tag starts another playlist: override, scan again, cancel
    LINKED = "linked"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class Hearing(Protocol):
    """How the box takes one reader's scans."""

    @property
    def heard(self) -> bool:
        """Return True when the box takes them."""

    @property
    def room_id(self) -> str | None:
        """Return the room of the box the reader belongs to, if any."""


class ReaderFilter(Protocol):
    """The readers a box listens to (children/readers.py)."""

    def hearing(self, device_id: str | None) -> Hearing:
        """Return whether (and in which room) the box takes the reader's scans."""

    def saw(self, device_id: str | None) -> None:
        """Note a reader that scanned a tag."""


class TagGuard(Protocol):
    """The children's rules a tag must pass before it plays (children/guard.py)."""

    def tag_refusal(self, link: StoredTagLink, reader_room: str | None = None) -> str | None:
        """Return why the tag may not start its playlist now (on the box, in its room), or None."""

    def refuse_tag(
        self,
        reason: str,
        tag_id: str,
        device_id: str | None,
        link: StoredTagLink,
        reader_room: str | None = None,
    ) -> None:
        """Tell automations a tag did not play, and why (with a gentle sound if set)."""


@dataclass(frozen=True, slots=True)
class TagScan:
    """The last scan a box heard (shown by the "last tag" sensor)."""

    tag_id: str
    device_id: str | None  # the reader
    known: bool  # linked on this box to a playlist that exists
    playlist_id: str | None


@dataclass(slots=True)
class Session:
    """A request to link the next scanned tag to a playlist, with a deadline."""

    playlist_id: str
    start_track_id: str | None
    shuffle: bool | None
    timeout: int
    expires_at: datetime
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: SessionState = SessionState.WAITING
    tag_id: str | None = None
    # duplicate: the playlist the tag starts now; linked after an override: the one it started.
    current_playlist_id: str | None = None
    reason: str | None = None  # cancelled: "user", "replaced" or "unload"
    cancel_timer: CALLBACK_TYPE | None = None

    def as_dict(self) -> dict[str, Any]:
        """Describe the session for clients and the bus."""
        return {
            "session_id": self.id,
            "state": self.state.value,
            "playlist_id": self.playlist_id,
            "start_track_id": self.start_track_id,
            "shuffle": self.shuffle,
            "timeout": self.timeout,
            "expires_at": self.expires_at.isoformat(),
            "tag_id": self.tag_id,
            "current_playlist_id": self.current_playlist_id,
            "reason": self.reason,
        }


def clean_tag_id(tag_id: Any) -> str | None:
    """Return the tag id without surrounding blanks, or None when empty, too long or no string."""
    if not isinstance(tag_id, str):
        return None
    clean = tag_id.strip()
    if not clean or len(clean) > MAX_TAG_ID_LENGTH:
        return None
    return clean


def require_tag_id(tag_id: str) -> str:
    """Return the cleaned tag id of a service or WebSocket call, or raise a translated error."""
    if (clean := clean_tag_id(tag_id)) is None:
        raise validation_error("invalid_tag_id", max=str(MAX_TAG_ID_LENGTH))
    return clean


def redacted(tag_id: str) -> str:
    """Return a short digest: a tag id can open other automations (diagnostics are shared)."""
    return hashlib.sha256(tag_id.encode()).hexdigest()[:12]


def redact_tags(value: Any) -> Any:
    """Replace every tag id in a result or event by its digest (tag ids open doors)."""
    if isinstance(value, list):
        return [redact_tags(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: redact_tags(item) for key, item in value.items() if key != "tag_id"}
    if "tag_id" in value:
        tag_id = value["tag_id"]
        out["tag_digest"] = None if tag_id is None else redacted(tag_id)
    return out
