"""What the children's rules say about a tag: play it, or refuse it (and tell automations why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback

from ..const import DOMAIN
from ..notices import async_translate
from .bedtime import Bedtime
from .const import EVENT_TAG_REFUSED, REASON_BEDTIME, REASON_DAILY_LIMIT
from .daily_limit import DailyLimit

if TYPE_CHECKING:
    from ..box import MusicBox


class Guard:
    """The daily limit and bedtime, asked by the tag manager before a tag plays."""

    def __init__(
        self, hass: HomeAssistant, box: MusicBox, limit: DailyLimit, bedtime: Bedtime
    ) -> None:
        self._hass = hass
        self._box = box
        self._limit = limit
        self._bedtime = bedtime

    def tag_refusal(self, playlist_id: str) -> str | None:
        """Return why a tag may not start the playlist now, or None when it may."""
        if self._limit.reached:
            return REASON_DAILY_LIMIT
        if not self._bedtime.allows(playlist_id):
            return REASON_BEDTIME
        return None

    @callback
    def refuse_tag(self, reason: str, tag_id: str, device_id: str | None, playlist_id: str) -> None:
        """Fire the refusal event (automations, the log book) for a tag that did not play."""
        self._box.entry.async_create_task(
            self._hass,
            self._async_refuse(reason, tag_id, device_id, playlist_id),
            f"{DOMAIN} tag refused",
        )

    async def _async_refuse(
        self, reason: str, tag_id: str, device_id: str | None, playlist_id: str
    ) -> None:
        message = await async_translate(
            self._hass, f"tag_refused_{reason}", name=self._box.entry.title
        )
        # device_id is the reader (as in tag_scanned); the box's device is box_device_id.
        self._box.events.fire(
            EVENT_TAG_REFUSED,
            {
                "reason": reason,
                "tag_id": tag_id,
                "device_id": device_id,
                "box_device_id": self._box.events.device_id,
                "playlist_id": playlist_id,
                "message": message,
            },
        )
