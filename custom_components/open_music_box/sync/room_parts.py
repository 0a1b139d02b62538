"""What a room takes from its box: the box wires these, and the room reaches no further."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from ..catalog import Catalog
    from ..events import Publisher
    from ..models import Track
    from ..sendspin.server import SendspinHub
    from ..storage import BoxStore


@dataclass(frozen=True, slots=True)
class RoomParts:
    """The box's parts its rooms use (shared by every room of the box)."""

    entry: ConfigEntry  # the box's entry: the rooms are its subentries, its tasks theirs
    store: BoxStore  # where each room was (queue, position, volume)
    catalog: Catalog  # a stored queue's tracks
    events: Publisher  # room changes for subscribers, membership changes on the bus
    sendspin: SendspinHub  # the Sendspin players a room can use as members
    url_for: Callable[[Track], str]  # a URL a media player member can fetch
    media_path: Callable[[Track], str]  # the path a satellite is sent (signed)
