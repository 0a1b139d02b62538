"""Options and events of the children's features (readers, bedtime, daily limit, lock)."""

from __future__ import annotations

from typing import Final

from ..const import DOMAIN

# Options of the box (entry.options) -----------------------------------------------------------
CONF_MIN_VOLUME: Final = "min_volume"  # percent, the floor besides the maximum
DEFAULT_MIN_VOLUME: Final = 0
CONF_DAILY_LIMIT: Final = "daily_limit_minutes"  # 0: no limit
DEFAULT_DAILY_LIMIT: Final = 0
MAX_DAILY_LIMIT: Final = 24 * 60
MAX_EXTRA_MINUTES: Final = 12 * 60
# device id of a reader -> READER_BOX or a room's id (absent: the reader is not assigned here)
CONF_READERS: Final = "readers"
READER_BOX: Final = "box"
READER_NONE: Final = "none"
CONF_BEDTIME_START: Final = "bedtime_start"  # "HH:MM:SS", local time
CONF_BEDTIME_END: Final = "bedtime_end"
DEFAULT_BEDTIME_START: Final = "19:30:00"
DEFAULT_BEDTIME_END: Final = "07:00:00"
CONF_BEDTIME_SCHEDULE: Final = "bedtime_schedule"  # start and end by themselves at those times
DEFAULT_BEDTIME_SCHEDULE: Final = False
CONF_BEDTIME_MAX_VOLUME: Final = "bedtime_max_volume"  # percent
DEFAULT_BEDTIME_MAX_VOLUME: Final = 30
CONF_BEDTIME_SLEEP_MINUTES: Final = "bedtime_sleep_minutes"  # 0: no sleep timer at bedtime
DEFAULT_BEDTIME_SLEEP_MINUTES: Final = 30
CONF_REFUSAL_SOUND: Final = "refusal_sound"  # what a refused tag sounds like
REFUSAL_CHIME: Final = "chime"  # a short soft chime (children/sounds/refused.wav)
REFUSAL_NONE: Final = "none"
DEFAULT_REFUSAL_SOUND: Final = REFUSAL_CHIME
CONF_LOCK: Final = "lock"
DEFAULT_LOCK: Final = False

# Events for automations ---------------------------------------------------------------------
EVENT_BEDTIME: Final = f"{DOMAIN}_bedtime"
EVENT_LIMIT_REACHED: Final = f"{DOMAIN}_limit_reached"
EVENT_TAG_REFUSED: Final = f"{DOMAIN}_tag_refused"

# Why a tag was refused (EVENT_TAG_REFUSED's `reason`)
REASON_DAILY_LIMIT: Final = "daily_limit"
REASON_BEDTIME: Final = "bedtime"
