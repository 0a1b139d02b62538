"""The association session of one box: open until a tag is linked, cancelled or its time is up.

tags.py decides what a scan during the session links; this module keeps the session's deadline,
ends it, and tells clients (the event log) and automations (the bus) about each state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .catalog import validation_error
from .const import DOMAIN
from .tag_model import Session, SessionState

if TYPE_CHECKING:
    from .events import Publisher

EVENT_TAG_ASSOCIATION = f"{DOMAIN}_tag_association"

DEFAULT_ASSOCIATION_TIMEOUT = 60
MIN_ASSOCIATION_TIMEOUT = 5
MAX_ASSOCIATION_TIMEOUT = 600


class Association:
    """The open session, if any (only the open one is kept)."""

    def __init__(self, hass: HomeAssistant, events: Publisher) -> None:
        """Initialize the association."""
        self._hass = hass
        self._events = events
        self.open: Session | None = None

    @callback
    def start(
        self,
        playlist_id: str,
        timeout: int,
        start_track_id: str | None,
        shuffle: bool | None,
    ) -> Session:
        """Open a session (its target was checked); an open one is replaced (cancelled)."""
        if not MIN_ASSOCIATION_TIMEOUT <= timeout <= MAX_ASSOCIATION_TIMEOUT:
            raise validation_error(
                "invalid_timeout",
                min=str(MIN_ASSOCIATION_TIMEOUT),
                max=str(MAX_ASSOCIATION_TIMEOUT),
            )
        if self.open is not None:
            self.end(self.open, SessionState.CANCELLED, reason="replaced")
        session = Session(
            playlist_id,
            start_track_id,
            shuffle,
            timeout,
            dt_util.utcnow() + timedelta(seconds=timeout),
        )

        @callback
        def expired(_now: datetime) -> None:
            session.cancel_timer = None
            self.end(session, SessionState.TIMEOUT)

        session.cancel_timer = async_call_later(self._hass, timeout, expired)
        self.open = session
        self.publish(session)
        return session

    def duplicate(self) -> Session:
        """Return the open session waiting on a duplicate tag; raise no_duplicate_tag."""
        session = self.open
        if session is None or session.state is not SessionState.DUPLICATE:
            raise validation_error("no_duplicate_tag")
        return session

    def require_open(self) -> Session:
        """Return the open session; raise no_association_session."""
        if (session := self.open) is None:
            raise validation_error("no_association_session")
        return session

    @callback
    def end(self, session: Session, state: SessionState, reason: str | None = None) -> None:
        """End the open session (its timer is cancelled) and tell clients how it ended."""
        if session.cancel_timer is not None:
            session.cancel_timer()
            session.cancel_timer = None
        session.state = state
        session.reason = reason
        self.open = None  # only the open session ever ends
        self.publish(session)

    @callback
    def publish(self, session: Session) -> None:
        """Tell clients and automations the session's state."""
        data = session.as_dict()
        self._events.publish("tag_association", data)
        self._events.fire(EVENT_TAG_ASSOCIATION, data)
