"""Diagnostics: what a maintainer needs to understand a user's box, without personal data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .box import OpenMusicBoxConfigEntry
from .children.lock import locked
from .const import CONF_LIBRARY_PATH
from .models import PlaylistKind


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OpenMusicBoxConfigEntry
) -> dict[str, Any]:
    """Return library counts, skipped entries, the output and the player state.

    Paths (the library folder, skipped files) name people and places: they are redacted.
    """
    return async_redact_data(_diagnostics(entry), TO_REDACT)


TO_REDACT = {CONF_LIBRARY_PATH, "path"}


def _diagnostics(entry: OpenMusicBoxConfigEntry) -> dict[str, Any]:
    box = entry.runtime_data
    catalog, player = box.catalog, box.player
    playlists = catalog.playlists()
    kinds = Counter(p.kind for p in playlists)
    skipped = Counter(s.reason for s in catalog.scan.skipped)
    return {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "library": {
            "available": catalog.available,
            "tracks": len(catalog.scan.tracks),
            "playlists": {kind.value: kinds.get(kind, 0) for kind in PlaylistKind},
            "skipped": dict(skipped),
            "skipped_entries": [
                {"path": s.path, "reason": s.reason, "playlist": s.playlist}
                for s in catalog.scan.skipped[:50]
            ],
        },
        "output": {"available": player.available, **player.output.diagnostics()},
        "events": box.events.diagnostics(),
        "tags": box.tags.diagnostics(),
        "player": {
            "state": player.state.value,
            "queue_length": len(player.queue),
            "position_in_order": player.pos,
            "volume": player.volume,
            "max_volume": player.settings.max_volume,
            "min_volume": player.settings.min_volume,
            "muted": player.muted,
            "shuffle": player.shuffle,
            "repeat": player.repeat.value,
        },
        "resume": box.resume.diagnostics(),
        "sleep_timer": box.sleep_timer.diagnostics(),
        "children": {
            "readers": box.readers.diagnostics(),
            "daily_limit": box.daily_limit.as_dict(),
            "bedtime": box.bedtime.diagnostics(),
            "bedtime_playlists": len(box.bedtime_playlists),
            "room_bedtimes": {
                room_id: bedtime.diagnostics() for room_id, bedtime in box.room_bedtimes.items()
            },
            "refusal_sound": box.guard.refusal_sound,
            "chime": box.chime.diagnostics(),
            "locked": locked(box.entry),
        },
        "imports": box.importer.diagnostics(),
        "rooms": [room.diagnostics() for room in box.rooms.values()],
    }
