"""What the children's rules say about a tag: play it, or refuse it (and tell automations why).

A refused tag changes nothing that plays: the box (or room) keeps its queue, state and resume
point. With the refusal option on "gentle sound" (the default) a short soft chime says "no" on
the output the tag would have played on (children/chime.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..const import DOMAIN
from ..notices import async_translate
from ..storage import StoredTagLink
from ..tag_play import link_room
from .bedtime import Bedtime
from .chime import Chime, ChimeTarget
from .const import (
    CONF_REFUSAL_SOUND,
    DEFAULT_REFUSAL_SOUND,
    EVENT_TAG_REFUSED,
    REASON_BEDTIME,
    REASON_DAILY_LIMIT,
    REFUSAL_CHIME,
)
from .daily_limit import DailyLimit


@dataclass(frozen=True, slots=True)
class GuardLinks:
    """What the guard asks and tells, not the whole box."""

    entry: ConfigEntry  # the refusal option, the box's name, the tasks' owner
    limit: DailyLimit
    bedtime: Bedtime
    room_bedtime: Callable[[str], Bedtime | None]
    fire: Callable[[str, dict[str, Any]], None]
    box_device_id: Callable[[], str | None]
    chime: Chime
    chime_target: Callable[[str | None], ChimeTarget]  # the box's (None) or a room's


class Guard:
    """The daily limit and bedtime (the box's, the room's), asked before a tag plays."""

    def __init__(self, hass: HomeAssistant, links: GuardLinks) -> None:
        """Initialize the guard."""
        self._hass = hass
        self._links = links

    def tag_refusal(self, link: StoredTagLink, reader_room: str | None = None) -> str | None:
        """Return why a tag may not play now (on the box, in its room), or None when it may."""
        playlist_id, room_id = link["playlist_id"], link_room(link, reader_room)
        if self._links.limit.reached:
            return REASON_DAILY_LIMIT
        if not self._links.bedtime.allows(playlist_id):
            return REASON_BEDTIME
        if room_id is not None and (room := self._links.room_bedtime(room_id)) is not None:
            if not room.allows(playlist_id):
                return REASON_BEDTIME
        return None

    @property
    def refusal_sound(self) -> str:
        """Return what a refusal sounds like: REFUSAL_CHIME or REFUSAL_NONE."""
        return str(self._links.entry.options.get(CONF_REFUSAL_SOUND, DEFAULT_REFUSAL_SOUND))

    @callback
    def refuse_tag(
        self,
        reason: str,
        tag_id: str,
        device_id: str | None,
        link: StoredTagLink,
        reader_room: str | None = None,
    ) -> None:
        """Fire the refusal event (automations, the log book) and chime, for a tag not played."""
        room_id = link_room(link, reader_room)
        self._links.entry.async_create_task(
            self._hass,
            self._async_refuse(reason, tag_id, device_id, link["playlist_id"], room_id),
            f"{DOMAIN} tag refused",
        )

    async def _async_refuse(
        self,
        reason: str,
        tag_id: str,
        device_id: str | None,
        playlist_id: str,
        room_id: str | None,
    ) -> None:
        message = await async_translate(
            self._hass, f"tag_refused_{reason}", name=self._links.entry.title
        )
        # device_id is the reader (as in tag_scanned); the box's device is box_device_id.
        self._links.fire(
            EVENT_TAG_REFUSED,
            {
                "reason": reason,
                "tag_id": tag_id,
                "device_id": device_id,
                "box_device_id": self._links.box_device_id(),
                "playlist_id": playlist_id,
                "room_id": room_id,
                "message": message,
            },
        )
        if self.refusal_sound == REFUSAL_CHIME:
            await self._links.chime.async_play(self._links.chime_target(room_id))
