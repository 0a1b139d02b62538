"""NFC tags: a scanned tag starts its playlist; association sessions link the next scanned tag.

Any reader works: Home Assistant's `tag_scanned` event carries the tag id and the reader's device.
A box hears the readers assigned to it or to its rooms, and those assigned to no box
(children/readers.py); a box plays the tags it links. A tag that no box hearing the reader links
or waits for is "unknown": each such box then fires its unknown-tag event, and the boxes whose
option says so share one notification (tag_notices.py). A daily limit or bedtime may refuse a tag
(children/).
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.tag import TAG_DATA
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.collection import CHANGE_ADDED
from homeassistant.util.hass_dict import HassKey

from .const import CONF_UNKNOWN_TAG_NOTIFICATION, DEFAULT_UNKNOWN_TAG_NOTIFICATION, DOMAIN
from .listeners import Listeners
from .storage import StoredTagLink
from .tag_model import (
    TARGET_BOX,
    ReaderFilter,
    Session,
    SessionState,
    TagGuard,
    TagScan,
    clean_tag_id,
    redacted,
    require_tag_id,
)
from .tag_notices import (
    BoxName,
    async_announce,
    async_name_tag,
    async_notify_unknown,
    async_unname_tag,
    tag_name,
)
from .tag_session import DEFAULT_ASSOCIATION_TIMEOUT, EVENT_TAG_ASSOCIATION, Association

if TYPE_CHECKING:
    from .events import Publisher
    from .tag_links import TagLinks
    from .tag_play import LinkPlayer

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_ASSOCIATION_TIMEOUT",
    "EVENT_TAG_ASSOCIATION",
    "EVENT_TAG_SCANNED",
    "EVENT_TAG_UNKNOWN",
    "TagManager",
    "redacted",
]

# HA's tag component fires this, as ESPHome, the companion app or an automation may: the box needs
# no dependency on that component (its tag list, when loaded, gets names: tag_notices.py).
EVENT_TAG_SCANNED = "tag_scanned"

EVENT_TAG_UNKNOWN = f"{DOMAIN}_tag_unknown"

_MANAGERS: HassKey[dict[str, TagManager]] = HassKey(f"{DOMAIN}_tag_managers")


class TagManager:
    """The tag links of one box, its association session, and what a scan does."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        links: TagLinks,
        events: Publisher,
        readers: ReaderFilter,
        guard: TagGuard,
        player: LinkPlayer,
    ) -> None:
        """Initialize the tag manager."""
        self._hass = hass
        self._entry = entry
        self._links = links
        self._events = events
        self._readers = readers
        self._guard = guard
        self._player = player
        self._association = Association(hass, events)
        self.last_scan: TagScan | None = None
        self._listeners = Listeners[[]]()
        self._unsub_bus: CALLBACK_TYPE | None = None
        self._unsub_ha_tags: CALLBACK_TYPE | None = None

    # Life cycle -----------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Listen to scans."""
        self._hass.data.setdefault(_MANAGERS, {})[self._entry.entry_id] = self
        self._unsub_bus = self._hass.bus.async_listen(EVENT_TAG_SCANNED, self._on_tag_scanned)
        if (ha_tags := self._hass.data.get(TAG_DATA)) is not None:
            self._unsub_ha_tags = ha_tags.async_add_listener(self._on_ha_tag_change)

    @callback
    def async_stop(self) -> None:
        """Stop listening; an open session ends as cancelled (the box goes away)."""
        if self._unsub_bus is not None:
            self._unsub_bus()
            self._unsub_bus = None
        if self._unsub_ha_tags is not None:
            self._unsub_ha_tags()
            self._unsub_ha_tags = None
        self._hass.data.get(_MANAGERS, {}).pop(self._entry.entry_id, None)
        if (session := self._association.open) is not None:
            self._association.end(session, SessionState.CANCELLED, reason="unload")

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every scan this box heard."""
        return self._listeners.add(listener)

    # Links -----------------------------------------------------------------

    def knows(self, tag_id: str) -> bool:
        """Return True when this box plays the tag or waits for a tag to link."""
        return self._association.open is not None or self._links.valid(tag_id) is not None

    def list_links(self) -> list[dict[str, Any]]:
        """Return every link, sorted by tag id."""
        return self._links.as_list()

    def _name(self, link: StoredTagLink | None) -> str | None:
        """Return the name a link gives its tag in HA's tag list (None: no playlist)."""
        playlist = self._links.playlist(link)
        return None if playlist is None else tag_name(self._entry.title, playlist.name)

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
        before = self._name(self._links.valid(tag_id))
        self._links.put(tag_id, link)
        self._publish_links()
        if (playlist := self._links.playlist(link)) is not None:
            self._entry.async_create_task(
                self._hass,
                async_announce(self._hass, self._entry.title, tag_id, playlist.name, before),
                f"{DOMAIN} tag linked",
            )
        return self._links.as_dict(tag_id, link)

    async def _on_ha_tag_change(self, change: str, tag_id: str, _config: dict[str, Any]) -> None:
        """Name a tag linked by its first scan: HA adds it to its list after our link."""
        if change == CHANGE_ADDED and (name := self._name(self._links.valid(tag_id))):
            await async_name_tag(self._hass, tag_id, name)

    @callback
    def _publish_links(self) -> None:
        self._events.publish("tags", {"tags": self.list_links()})

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
        self._links.check_target(playlist_id, start_track_id)
        if room_id is not None:
            self._player.require_room(room_id)
        return self._store_link(clean, playlist_id, start_track_id, shuffle, room_id)

    @callback
    def unlink(self, tag_id: str) -> None:
        """Remove a tag's link."""
        clean = require_tag_id(tag_id)
        name = self._name(self._links.pop(clean))
        self._publish_links()
        if name is not None:
            self._entry.async_create_task(
                self._hass, async_unname_tag(self._hass, clean, name), f"{DOMAIN} tag unlinked"
            )

    # Association session -----------------------------------------------------------------

    @property
    def session(self) -> dict[str, Any] | None:
        """Return the open session, if any."""
        session = self._association.open
        return None if session is None else session.as_dict()

    @callback
    def start_association(
        self,
        playlist_id: str,
        timeout: int = DEFAULT_ASSOCIATION_TIMEOUT,
        start_track_id: str | None = None,
        shuffle: bool | None = None,
    ) -> dict[str, Any]:
        """Link the next tag scanned to the playlist; an open session is replaced (cancelled)."""
        self._links.check_target(playlist_id, start_track_id)
        return self._association.start(playlist_id, timeout, start_track_id, shuffle).as_dict()

    @callback
    def override(self) -> dict[str, Any]:
        """Relink the duplicate tag of the open session to its playlist, without a second scan."""
        session = self._association.duplicate()
        assert session.tag_id is not None  # set with the duplicate state
        self._links.check_target(session.playlist_id, session.start_track_id)
        self._store_link(
            session.tag_id, session.playlist_id, session.start_track_id, session.shuffle
        )
        self._association.end(session, SessionState.LINKED)
        return session.as_dict()

    @callback
    def cancel(self) -> dict[str, Any]:
        """End the open session: its timer is cancelled and scans play again."""
        session = self._association.require_open()
        self._association.end(session, SessionState.CANCELLED, reason="user")
        return session.as_dict()

    @callback
    def _associate(self, session: Session, tag_id: str) -> None:
        """Link a tag scanned during the session, or report the playlist it starts already."""
        session.tag_id = tag_id
        current = self._links.valid(tag_id)
        if current is not None and current["playlist_id"] != session.playlist_id:
            session.state = SessionState.DUPLICATE
            session.current_playlist_id = current["playlist_id"]
            self._association.publish(session)
            return
        session.current_playlist_id = None
        if not self._links.exists(session.playlist_id):
            # The playlist was deleted while waiting: nothing to link to any more.
            self._association.end(session, SessionState.CANCELLED, reason="playlist_deleted")
            return
        self._store_link(tag_id, session.playlist_id, session.start_track_id, session.shuffle)
        # Linked by a scan, not a command: written at once rather than after the save delay.
        self._entry.async_create_task(self._hass, self._links.flush(), f"{DOMAIN} tag link save")
        self._association.end(session, SessionState.LINKED)

    # Scans -----------------------------------------------------------------

    @callback
    def _on_tag_scanned(self, event: Event) -> None:
        tag_id = clean_tag_id(event.data.get("tag_id"))
        if tag_id is None:
            _LOGGER.warning("Ignoring a scanned tag with an empty or too long id")
            return
        reader = event.data.get("device_id")
        self.handle_scan(tag_id, reader if isinstance(reader, str) else None)

    def hears(self, device_id: str | None) -> bool:
        """Return True when this box takes scans of the reader (not another child's)."""
        return self._readers.hearing(device_id).heard

    @callback
    def handle_scan(self, tag_id: str, device_id: str | None) -> None:
        """Link the tag (open session), play its playlist, or take the unknown-tag path."""
        hearing = self._readers.hearing(device_id)
        if not hearing.heard:
            return  # another box's reader: no play, no unknown-tag notice
        self._readers.saw(device_id)
        if (session := self._association.open) is not None:
            self._associate(session, tag_id)
            self._record(tag_id, device_id)
            return
        link = self._links.valid(tag_id)
        self._record(tag_id, device_id)
        if link is not None:
            if (reason := self._guard.tag_refusal(link, hearing.room_id)) is not None:
                self._guard.refuse_tag(reason, tag_id, device_id, link, hearing.room_id)
                return
            self._entry.async_create_task(
                self._hass,
                self._player.async_play(tag_id, link, hearing.room_id),
                f"{DOMAIN} tag {redacted(tag_id)}",
            )
        elif not any(
            m.knows(tag_id) and m.hears(device_id)
            for m in self._hass.data.get(_MANAGERS, {}).values()
        ):
            self._unknown(tag_id, device_id)

    @callback
    def _record(self, tag_id: str, device_id: str | None) -> None:
        link = self._links.valid(tag_id)
        self.last_scan = TagScan(
            tag_id, device_id, link is not None, None if link is None else link["playlist_id"]
        )
        self._listeners.notify()

    @callback
    def _unknown(self, tag_id: str, device_id: str | None) -> None:
        # device_id is the reader here (as in tag_scanned); the box's device is box_device_id.
        self._events.fire(
            EVENT_TAG_UNKNOWN,
            {"tag_id": tag_id, "device_id": device_id, "box_device_id": self._events.device_id},
        )
        # Every box hears the scan; the first box that notifies speaks for all: one notification.
        managers = [m for m in self._hass.data.get(_MANAGERS, {}).values() if m.notifies]
        boxes = [m.box_name for m in managers]
        if managers and managers[0] is self:
            self._entry.async_create_task(
                self._hass,
                async_notify_unknown(self._hass, tag_id, device_id, boxes),
                f"{DOMAIN} unknown tag notification",
            )

    @property
    def box_name(self) -> BoxName:
        """Return the box as the unknown-tag notification names it."""
        return BoxName(self._entry.title, self._events.device_id)

    @property
    def notifies(self) -> bool:
        """Return True when the box's option asks for the unknown-tag notification."""
        options = self._entry.options
        return bool(options.get(CONF_UNKNOWN_TAG_NOTIFICATION, DEFAULT_UNKNOWN_TAG_NOTIFICATION))

    # Diagnostics -----------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Return link counts, stale links (ids redacted) and the session state."""
        return {
            **self._links.diagnostics(),
            "session": None if (session := self._association.open) is None else session.state.value,
        }
