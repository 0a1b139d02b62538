"""What a box's stored file may hold: one voluptuous schema per section, checked when it is loaded.

A damaged section (a hand edit, a disk fault, a bug of an older version) must not take the rest with
it: each entry of a section is checked on its own and dropped alone; a section that is not even a
mapping is dropped whole. `validate` returns the data that passed and a description of what did not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.media_player import RepeatMode
import homeassistant.util.dt as dt_util
import voluptuous as vol


def _not_bool(value: Any) -> Any:
    # JSON's true is an int to Python, but never a count, a position or a volume.
    if isinstance(value, bool):
        raise vol.Invalid("expected a number")
    return value


_INT = vol.All(_not_bool, int)
_NUMBER = vol.All(_not_bool, vol.Any(int, float), vol.Coerce(float))
_COUNT = vol.All(_INT, vol.Range(min=0))

PLAYLIST = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("track_ids"): [str],
        vol.Optional("seq"): _COUNT,
    },
    extra=vol.ALLOW_EXTRA,
)

HUB = vol.Schema({vol.Required("seq_reserved"): _COUNT}, extra=vol.ALLOW_EXTRA)

TAG_LINK = vol.Schema(
    {
        vol.Required("playlist_id"): str,
        vol.Required("target"): str,
        vol.Optional("start_track_id"): str,
        vol.Optional("shuffle"): bool,
    },
    extra=vol.ALLOW_EXTRA,
)

PLAYLIST_MODE = vol.In(["audiobook"])

RESUME_POINT = vol.Schema(
    {
        vol.Required("track_id"): str,
        vol.Required("position"): vol.All(_NUMBER, vol.Range(min=0)),
        vol.Optional("at"): _NUMBER,
    },
    extra=vol.ALLOW_EXTRA,
)

READER = vol.Schema({vol.Required("last_seen"): _NUMBER}, extra=vol.ALLOW_EXTRA)

BEDTIME_PLAYLIST = vol.In([True])


def _time_of_day(value: Any) -> str:
    if not isinstance(value, str) or dt_util.parse_time(value) is None:
        raise vol.Invalid("expected a time HH:MM:SS")
    return value


ROOM_BEDTIME = vol.Schema(
    {
        vol.Optional("active"): bool,
        vol.Optional("since"): _NUMBER,
        vol.Optional("start"): _time_of_day,
        vol.Optional("end"): _time_of_day,
    },
    extra=vol.ALLOW_EXTRA,
)

# Sections that hold one mapping (not entries by id): dropped whole when damaged.
LAST_PLAYLIST = vol.Schema({vol.Required("playlist_id"): str}, extra=vol.ALLOW_EXTRA)

DAILY_LIMIT = vol.Schema(
    {
        vol.Required("date"): str,
        vol.Required("seconds"): vol.All(_NUMBER, vol.Range(min=0)),
        vol.Required("extra_minutes"): _COUNT,
        vol.Required("reached"): bool,
    },
    extra=vol.ALLOW_EXTRA,
)

BEDTIME = vol.Schema(
    {vol.Required("active"): bool, vol.Optional("since"): _NUMBER}, extra=vol.ALLOW_EXTRA
)


def _consistent_queue(room: dict[str, Any]) -> dict[str, Any]:
    """Refuse a play order that is no permutation of the queue, or a position outside it."""
    if sorted(room["order"]) != list(range(len(room["track_ids"]))):
        raise vol.Invalid("order is not a permutation of the queue")
    if room["track_ids"] and not 0 <= room["pos"] < len(room["order"]):
        raise vol.Invalid("pos is outside the queue")
    return room


ROOM = vol.All(
    vol.Schema(
        {
            vol.Required("track_ids"): [str],
            vol.Required("order"): [_INT],
            vol.Required("pos"): _COUNT,
            vol.Required("position"): vol.All(_NUMBER, vol.Range(min=0)),
            vol.Required("playlist_id"): vol.Any(None, str),
            vol.Required("shuffle"): bool,
            vol.Required("repeat"): vol.In([repeat.value for repeat in RepeatMode]),
            vol.Required("volume"): vol.All(_NUMBER, vol.Range(min=0, max=1)),
            vol.Required("muted"): bool,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    _consistent_queue,
)

# Sections whose value maps an id to one entry: entries are checked one by one.
ENTRY_SECTIONS: dict[str, Callable[[Any], Any]] = {
    "playlists": PLAYLIST,
    "tags": TAG_LINK,
    "playlist_modes": PLAYLIST_MODE,
    "resume_points": RESUME_POINT,
    "rooms": ROOM,
    "readers": READER,
    "bedtime_playlists": BEDTIME_PLAYLIST,
    "room_bedtimes": ROOM_BEDTIME,
}

# Sections holding one mapping; a damaged one starts again empty (today's count from 0).
SINGLE_SECTIONS: dict[str, Callable[[Any], Any]] = {
    "daily_limit": DAILY_LIMIT,
    "bedtime": BEDTIME,
    "last_playlist": LAST_PLAYLIST,
}


def validate(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Return (the data that passed, one line per section that lost something)."""
    if not isinstance(raw, dict):
        return {"playlists": {}}, ["everything (the file holds no mapping)"]
    data: dict[str, Any] = {
        key: value
        for key, value in raw.items()
        if key not in ENTRY_SECTIONS and key not in SINGLE_SECTIONS
    }
    lost: list[str] = []
    for section, schema in ENTRY_SECTIONS.items():
        if section not in raw:
            continue
        value = raw[section]
        if not isinstance(value, dict):
            lost.append(f"{section}: all")
            continue
        kept: dict[str, Any] = {}
        for key, item in value.items():
            try:
                kept[key] = schema(item)
            except vol.Invalid:
                continue
        if dropped := len(value) - len(kept):
            lost.append(f"{section}: {dropped} of {len(value)}")
        data[section] = kept
    data.setdefault("playlists", {})
    for section, schema in SINGLE_SECTIONS.items():
        if section in raw:
            try:
                data[section] = schema(raw[section])
            except vol.Invalid:
                lost.append(f"{section}: all")
    if "hub" in raw:
        try:
            data["hub"] = HUB(raw["hub"])
        except vol.Invalid:
            # The sequence then starts again from 0: clients get a snapshot instead of a replay.
            del data["hub"]
            lost.append("hub: the event sequence reservation")
    return data, lost
