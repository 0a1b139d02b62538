"""NFC tags: a scanned tag starts its playlist; association sessions link the next scanned tag.

Any reader works: Home Assistant's `tag_scanned` event carries the tag id and the reader's device.
Every box hears every scan (there is no reader → box mapping yet): a box plays the tags it links.
A tag that no loaded box links or waits for is "unknown": each box then fires its unknown-tag
event, and shows a notification if its option says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import hashlib
import logging
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.components import persistent_notification
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .catalog import validation_error
from .const import (
    CONF_SAME_TAG_ACTION,
    CONF_UNKNOWN_TAG_NOTIFICATION,
    DEFAULT_SAME_TAG_ACTION,
    DEFAULT_UNKNOWN_TAG_NOTIFICATION,
    DOMAIN,
    SAME_TAG_IGNORE,
    SAME_TAG_TOGGLE,
)
from .listeners import Listeners
from .playback.player import PlayState
from .storage import StoredTagLink

if TYPE_CHECKING:
    from .box import MusicBox

_LOGGER = logging.getLogger(__name__)

# HA's tag component fires this (homeassistant.components.tag.const); not imported, so the box
# needs no dependency on that component: ESPHome, the companion app or an automation may fire it.
EVENT_TAG_SCANNED = "tag_scanned"

EVENT_TAG_UNKNOWN = f"{DOMAIN}_tag_unknown"
EVENT_TAG_ASSOCIATION = f"{DOMAIN}_tag_association"

# A state holds at most 255 characters: any accepted tag id fits in the "last tag" sensor.
MAX_TAG_ID_LENGTH = 255
DEFAULT_ASSOCIATION_TIMEOUT = 60
MIN_ASSOCIATION_TIMEOUT = 5
MAX_ASSOCIATION_TIMEOUT = 600

TARGET_BOX = "box"  # otherwise the target is a sync room's id

_MANAGERS: HassKey[dict[str, TagManager]] = HassKey(f"{DOMAIN}_tag_managers")


class SessionState(StrEnum):
    """States of an association session; the box keeps it only while it is open (first two)."""

    WAITING = "waiting"
    DUPLICATE = "duplicate"  # the scanned tag starts another playlist: override, scan again, cancel
    LINKED = "linked"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


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


class TagManager:
    """The tag links of one box, its association session, and what a scan does."""

    def __init__(self, hass: HomeAssistant, box: MusicBox) -> None:
        self._hass = hass
        self._box = box
        self._session: Session | None = None
        self.last_scan: TagScan | None = None
        self._listeners = Listeners[[]]()
        self._unsub_bus: CALLBACK_TYPE | None = None

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Listen to scans."""
        self._hass.data.setdefault(_MANAGERS, {})[self._box.entry.entry_id] = self
        self._unsub_bus = self._hass.bus.async_listen(EVENT_TAG_SCANNED, self._on_tag_scanned)

    @callback
    def async_stop(self) -> None:
        """Stop listening; an open session ends as cancelled (the box goes away)."""
        if self._unsub_bus is not None:
            self._unsub_bus()
            self._unsub_bus = None
        self._hass.data.get(_MANAGERS, {}).pop(self._box.entry.entry_id, None)
        if self._session is not None:
            self._end(self._session, SessionState.CANCELLED, reason="unload")

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every scan this box heard."""
        return self._listeners.add(listener)

    # Links -----------------------------------------------------------------

    @property
    def _links(self) -> dict[str, StoredTagLink]:
        return self._box.store.data.setdefault("tags", {})

    def _valid_link(self, tag_id: str) -> StoredTagLink | None:
        """Return the tag's link when its playlist still exists (a stale link counts as none)."""
        link = self._links.get(tag_id)
        if link is None or self._box.catalog.playlist(link["playlist_id"]) is None:
            return None
        return link

    def knows(self, tag_id: str) -> bool:
        """Return True when this box plays the tag or waits for a tag to link."""
        return self._session is not None or self._valid_link(tag_id) is not None

    def link_dict(self, tag_id: str, link: StoredTagLink) -> dict[str, Any]:
        """Describe a link for clients (`stale`: its playlist no longer exists)."""
        playlist = self._box.catalog.playlist(link["playlist_id"])
        return {
            "tag_id": tag_id,
            "playlist_id": link["playlist_id"],
            "playlist_name": None if playlist is None else playlist.name,
            "start_track_id": link.get("start_track_id"),
            "shuffle": link.get("shuffle"),
            "target": link["target"],
            "stale": playlist is None,
        }

    def list_links(self) -> list[dict[str, Any]]:
        """Return every link, sorted by tag id."""
        return [self.link_dict(tag_id, self._links[tag_id]) for tag_id in sorted(self._links)]

    def _check_target(self, playlist_id: str, start_track_id: str | None) -> None:
        """Refuse a playlist that does not exist, or a start track that is not in it."""
        playlist = self._box.catalog.require_playlist(playlist_id)
        if start_track_id is not None and start_track_id not in playlist.track_ids:
            raise validation_error("track_not_in_playlist", track_id=start_track_id)

    @callback
    def _store_link(
        self,
        tag_id: str,
        playlist_id: str,
        start_track_id: str | None,
        shuffle: bool | None,
        room_id: str | None = None,
    ) -> dict[str, Any]:
        link: StoredTagLink = {"playlist_id": playlist_id, "target": room_id or TARGET_BOX}
        if start_track_id is not None:
            link["start_track_id"] = start_track_id
        if shuffle is not None:
            link["shuffle"] = shuffle
        self._links[tag_id] = link
        self._saved()
        return self.link_dict(tag_id, link)

    @callback
    def _saved(self) -> None:
        self._box.store.schedule_save()
        self._box.events.publish("tags", {"tags": self.list_links()})

    @callback
    def link(
        self,
        tag_id: str,
        playlist_id: str,
        start_track_id: str | None = None,
        shuffle: bool | None = None,
        room_id: str | None = None,
    ) -> dict[str, Any]:
        """Link a tag without scanning it (to the box or a room); a linked tag is relinked."""
        clean = require_tag_id(tag_id)
        self._check_target(playlist_id, start_track_id)
        if room_id is not None:
            self._box.room(room_id)  # the translated room_not_found
        return self._store_link(clean, playlist_id, start_track_id, shuffle, room_id)

    @callback
    def unlink(self, tag_id: str) -> None:
        """Remove a tag's link."""
        clean = require_tag_id(tag_id)
        if clean not in self._links:
            raise validation_error("unknown_tag", tag_id=clean)
        del self._links[clean]
        self._saved()

    # Association session -----------------------------------------------------------------

    @property
    def session(self) -> dict[str, Any] | None:
        """Return the open session, if any."""
        return None if self._session is None else self._session.as_dict()

    @callback
    def start_association(
        self,
        playlist_id: str,
        timeout: int = DEFAULT_ASSOCIATION_TIMEOUT,
        start_track_id: str | None = None,
        shuffle: bool | None = None,
    ) -> dict[str, Any]:
        """Link the next tag scanned to the playlist; an open session is replaced (cancelled)."""
        self._check_target(playlist_id, start_track_id)
        if not MIN_ASSOCIATION_TIMEOUT <= timeout <= MAX_ASSOCIATION_TIMEOUT:
            raise validation_error(
                "invalid_timeout",
                min=str(MIN_ASSOCIATION_TIMEOUT),
                max=str(MAX_ASSOCIATION_TIMEOUT),
            )
        if self._session is not None:
            self._end(self._session, SessionState.CANCELLED, reason="replaced")
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
            self._end(session, SessionState.TIMEOUT)

        session.cancel_timer = async_call_later(self._hass, timeout, expired)
        self._session = session
        self._publish(session)
        return session.as_dict()

    @callback
    def override(self) -> dict[str, Any]:
        """Relink the duplicate tag of the open session to its playlist, without a second scan."""
        session = self._session
        if session is None or session.state is not SessionState.DUPLICATE:
            raise validation_error("no_duplicate_tag")
        assert session.tag_id is not None  # set with the duplicate state
        self._check_target(session.playlist_id, session.start_track_id)
        self._store_link(
            session.tag_id, session.playlist_id, session.start_track_id, session.shuffle
        )
        self._end(session, SessionState.LINKED)
        return session.as_dict()

    @callback
    def cancel(self) -> dict[str, Any]:
        """End the open session: its timer is cancelled and scans play again."""
        if (session := self._session) is None:
            raise validation_error("no_association_session")
        self._end(session, SessionState.CANCELLED, reason="user")
        return session.as_dict()

    @callback
    def _associate(self, session: Session, tag_id: str) -> None:
        """Link a tag scanned during the session, or report the playlist it starts already."""
        session.tag_id = tag_id
        current = self._valid_link(tag_id)
        if current is not None and current["playlist_id"] != session.playlist_id:
            session.state = SessionState.DUPLICATE
            session.current_playlist_id = current["playlist_id"]
            self._publish(session)
            return
        session.current_playlist_id = None
        if self._box.catalog.playlist(session.playlist_id) is None:
            # The playlist was deleted while waiting: nothing to link to any more.
            self._end(session, SessionState.CANCELLED, reason="playlist_deleted")
            return
        self._store_link(tag_id, session.playlist_id, session.start_track_id, session.shuffle)
        # Linked by a scan, not a command: written at once rather than after the save delay.
        self._box.entry.async_create_task(
            self._hass, self._box.store.async_flush(), f"{DOMAIN} tag link save"
        )
        self._end(session, SessionState.LINKED)

    @callback
    def _end(self, session: Session, state: SessionState, reason: str | None = None) -> None:
        if session.cancel_timer is not None:
            session.cancel_timer()
            session.cancel_timer = None
        session.state = state
        session.reason = reason
        self._session = None  # only the open session ever ends
        self._publish(session)

    @callback
    def _publish(self, session: Session) -> None:
        data = session.as_dict()
        self._box.events.publish("tag_association", data)
        self._box.events.fire(EVENT_TAG_ASSOCIATION, data)

    # Scans -----------------------------------------------------------------

    @callback
    def _on_tag_scanned(self, event: Event) -> None:
        tag_id = clean_tag_id(event.data.get("tag_id"))
        if tag_id is None:
            _LOGGER.warning("Ignoring a scanned tag with an empty or too long id")
            return
        reader = event.data.get("device_id")
        self.handle_scan(tag_id, reader if isinstance(reader, str) else None)

    @callback
    def handle_scan(self, tag_id: str, device_id: str | None) -> None:
        """Link the tag (open session), play its playlist, or take the unknown-tag path."""
        if (session := self._session) is not None:
            self._associate(session, tag_id)
            self._record(tag_id, device_id)
            return
        link = self._valid_link(tag_id)
        self._record(tag_id, device_id)
        if link is not None:
            self._box.entry.async_create_task(
                self._hass, self._async_play(tag_id, link), f"{DOMAIN} tag {redacted(tag_id)}"
            )
        elif not any(m.knows(tag_id) for m in self._hass.data.get(_MANAGERS, {}).values()):
            self._unknown(tag_id, device_id)

    @callback
    def _record(self, tag_id: str, device_id: str | None) -> None:
        link = self._valid_link(tag_id)
        self.last_scan = TagScan(
            tag_id, device_id, link is not None, None if link is None else link["playlist_id"]
        )
        self._listeners.notify()

    async def _async_play(self, tag_id: str, link: StoredTagLink) -> None:
        player = self._box.player
        if (target := link["target"]) != TARGET_BOX:
            if (room := self._box.rooms.get(target)) is None:
                _LOGGER.warning("The room of tag %s was removed", redacted(tag_id))
                return
            player = room.player
        playlist_id = link["playlist_id"]
        same = player.playlist_id == playlist_id and player.state is not PlayState.IDLE
        if same:
            action = self._box.entry.options.get(CONF_SAME_TAG_ACTION, DEFAULT_SAME_TAG_ACTION)
            if action == SAME_TAG_IGNORE:
                return
            if action == SAME_TAG_TOGGLE:
                await player.async_toggle()
                return
        start = link.get("start_track_id")
        playlist = self._box.catalog.playlist(playlist_id)
        if start is not None and (playlist is None or start not in playlist.track_ids):
            _LOGGER.warning("The start track of a tag's link is gone; playing from the start")
            start = None
        try:
            # "restart" really starts over, even an audiobook (it does not resume).
            await self._box.async_play_playlist(
                playlist_id, start, link.get("shuffle"), resume=not same, player=player
            )
        except HomeAssistantError as err:
            _LOGGER.warning("Cannot play the playlist of tag %s: %s", redacted(tag_id), err)

    @callback
    def _unknown(self, tag_id: str, device_id: str | None) -> None:
        # device_id is the reader here (as in tag_scanned); the box's device is box_device_id.
        self._box.events.fire(
            EVENT_TAG_UNKNOWN,
            {"tag_id": tag_id, "device_id": device_id, "box_device_id": self._box.events.device_id},
        )
        options = self._box.entry.options
        if options.get(CONF_UNKNOWN_TAG_NOTIFICATION, DEFAULT_UNKNOWN_TAG_NOTIFICATION):
            self._box.entry.async_create_task(
                self._hass, self._async_notify(tag_id), f"{DOMAIN} unknown tag notification"
            )

    @property
    def notification_id(self) -> str:
        """Return the id of the box's unknown-tag notification (repeated scans update it)."""
        return f"{DOMAIN}_unknown_tag_{self._box.entry.entry_id}"

    async def _async_notify(self, tag_id: str) -> None:
        texts = await async_get_translations(
            self._hass, self._hass.config.language, "exceptions", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.exceptions"
        title = texts.get(f"{prefix}.unknown_tag_notification_title.message", "Unknown tag")
        message = texts.get(f"{prefix}.unknown_tag_notification.message", "{tag_id}")
        persistent_notification.async_create(
            self._hass,
            # Backticks would end the code span the id is shown in.
            message.format(name=self._box.entry.title, tag_id=tag_id.replace("`", "'")),
            title.format(name=self._box.entry.title),
            self.notification_id,
        )

    # Diagnostics -----------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Return link counts, stale links (ids redacted) and the session state."""
        stale = [
            {"tag": redacted(tag_id), "playlist_id": link["playlist_id"]}
            for tag_id, link in sorted(self._links.items())
            if self._box.catalog.playlist(link["playlist_id"]) is None
        ]
        return {
            "links": len(self._links),
            "stale_links": stale,
            "session": None if self._session is None else self._session.state.value,
        }
