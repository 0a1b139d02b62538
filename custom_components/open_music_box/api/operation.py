"""One row of the table of operations: its kind, the call it gets, its fields and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from homeassistant.core import SupportsResponse
import voluptuous as vol

if TYPE_CHECKING:
    from ..box import MusicBox

SchemaDict = dict[str | vol.Marker, Any]


class Kind(StrEnum):
    """What an operation does, which decides who may call it and what the runner adds."""

    READ = "read"  # anyone; no de-duplication
    CONTROL = "control"  # anyone (playback); de-duplicated by client_op_id
    EDIT = "edit"  # administrators (and automations); de-duplicated; flushed to disk
    SETTINGS = "settings"  # administrators (and automations): reads of what only they set


@dataclass(frozen=True, slots=True)
class Call:
    """One validated call of an operation, whichever way it came in."""

    box: MusicBox
    data: dict[str, Any]
    admin: bool  # an administrator, or no user at all (automation, script)


Handler = Callable[[Call], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One row of the table."""

    command: str  # WebSocket command `open_music_box/<command>`
    action: str | None  # action `open_music_box.<action>`; None: the media player's actions do it
    kind: Kind
    fields: SchemaDict
    handler: Handler
    response: SupportsResponse = SupportsResponse.NONE

    @property
    def admin_only(self) -> bool:
        """Return True when only administrators (and automations) may call it."""
        return self.kind in (Kind.EDIT, Kind.SETTINGS)
