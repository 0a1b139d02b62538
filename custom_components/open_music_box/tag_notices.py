"""What a parent sees of tags: notifications, and names in Home Assistant's tag list.

One notification per unknown scan, a word when that tag is linked, and a name in Settings → Tags.
The notification is shared by every box (one scan, one notification); it links the parents'
panel's Tags view, where the tag waits with its "Link…", and each box's device page.
"""

from __future__ import annotations

from typing import NamedTuple

from homeassistant.components import persistent_notification
from homeassistant.components.tag import DOMAIN as TAG_DOMAIN, TAG_DATA
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, PANEL_URL_PATH

NOTIFICATION_ID = f"{DOMAIN}_unknown_tag"
LINKED_NOTIFICATION_ID = f"{DOMAIN}_tag_linked"
# The tag the unknown-tag notification shows (one per Home Assistant, like the notification).
_NOTIFIED: HassKey[str] = HassKey(f"{DOMAIN}_notified_tag")
# The parents' panel opened on its Tags view, where the unknown tag waits with its "Link…".
TAGS_PANEL_URL = f"/{PANEL_URL_PATH}?tab=tags"
NO_READER = "—"


async def _async_texts(hass: HomeAssistant) -> dict[str, str]:
    return await async_get_translations(hass, hass.config.language, "exceptions", {DOMAIN})


def _text(texts: dict[str, str], key: str, default: str) -> str:
    return texts.get(f"component.{DOMAIN}.exceptions.{key}.message", default)


def _plain(text: str) -> str:
    """Keep a name from breaking the markdown it is shown in (a code span, a link)."""
    return text.replace("`", "'").replace("[", "(").replace("]", ")")


def reader_name(hass: HomeAssistant, device_id: str | None) -> str | None:
    """Return the name of the device that scanned a tag, as the parent named it."""
    if device_id is None or (device := dr.async_get(hass).async_get(device_id)) is None:
        return None
    return device.name_by_user or device.name


class BoxName(NamedTuple):
    """A box as a notification names it: its title, and its device page when it has one."""

    title: str
    device_id: str | None


def _box_link(box: BoxName) -> str:
    title = _plain(box.title)
    if box.device_id is None:
        return title
    return f"[{title}](/config/devices/device/{box.device_id})"


async def async_notify_unknown(
    hass: HomeAssistant, tag_id: str, reader_id: str | None, boxes: list[BoxName]
) -> None:
    """Show (or update) the one unknown-tag notification: the tag, its reader, how to link it."""
    texts = await _async_texts(hass)
    names = ", ".join(box.title for box in boxes)
    message = _text(texts, "unknown_tag_notification", "{tag_id}").format(
        tag_id=_plain(tag_id),  # backticks would end the code span the id is shown in
        reader=_plain(reader_name(hass, reader_id) or NO_READER),
        boxes=", ".join(_box_link(box) for box in boxes),
        link_url=TAGS_PANEL_URL,
        name=names,
    )
    title = _text(texts, "unknown_tag_notification_title", "Unknown tag").format(name=names)
    persistent_notification.async_create(hass, message, title, NOTIFICATION_ID)
    hass.data[_NOTIFIED] = tag_id


async def async_linked(hass: HomeAssistant, title: str, tag_id: str, playlist: str) -> None:
    """Swap the unknown-tag notification for a confirmation when its tag was linked."""
    if hass.data.get(_NOTIFIED) != tag_id:
        return
    del hass.data[_NOTIFIED]
    persistent_notification.async_dismiss(hass, NOTIFICATION_ID)
    texts = await _async_texts(hass)
    message = _text(texts, "tag_linked_notification", "{playlist}").format(
        playlist=_plain(playlist), name=_plain(title)
    )
    title = _text(texts, "tag_linked_notification_title", "Tag linked")
    persistent_notification.async_create(hass, message, title, LINKED_NOTIFICATION_ID)


def _tag_entity(hass: HomeAssistant, tag_id: str) -> er.RegistryEntry | None:
    """Return the entity of a tag in Home Assistant's list: it holds the tag's name."""
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(TAG_DOMAIN, TAG_DOMAIN, tag_id)
    return registry.async_get(entity_id) if entity_id else None


def tag_name(title: str, playlist: str) -> str:
    """Return the name a tag the box links gets in Home Assistant's tag list."""
    return f"{title}: {playlist}"


async def async_name_tag(
    hass: HomeAssistant, tag_id: str, name: str, ours: str | None = None
) -> None:
    """Name the tag in Home Assistant's tag list, unless someone named it (not as `ours`).

    Only tags Home Assistant knows (scanned once) are named: none is added to its list.
    """
    if (tags := hass.data.get(TAG_DATA)) is None or tag_id not in tags.data:
        return
    entity = _tag_entity(hass, tag_id)
    current = entity.name if entity else None
    if current == name or (current is not None and current != ours):
        return
    await tags.async_update_item(tag_id, {"name": name})


async def async_unname_tag(hass: HomeAssistant, tag_id: str, ours: str) -> None:
    """Give an unlinked tag its default name back, if it still has the one the box gave it."""
    if (entity := _tag_entity(hass, tag_id)) is not None and entity.name == ours:
        # The tag list has no way to clear a name: it is the entity registry's name.
        er.async_get(hass).async_update_entity(entity.entity_id, name=None)


async def async_announce(
    hass: HomeAssistant, title: str, tag_id: str, playlist: str, before: str | None
) -> None:
    """Confirm the link of a tag the parent was told about; name it in HA's tag list.

    `before` is the name the tag's previous link gave it (replaced unless someone renamed it).
    """
    await async_linked(hass, title, tag_id, playlist)
    await async_name_tag(hass, tag_id, tag_name(title, playlist), before)
