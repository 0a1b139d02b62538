"""Constants for Open Music Box."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "open_music_box"

# Config entry data
CONF_LIBRARY_PATH: Final = "library_path"
CONF_OUTPUT: Final = "output"
CONF_AUDIO_DEVICE: Final = "audio_device"
CONF_TARGET_ENTITY: Final = "target_entity"

OUTPUT_MPV: Final = "mpv"
OUTPUT_ENTITY: Final = "entity"
OUTPUT_SENDSPIN: Final = "sendspin"
AUDIO_DEVICE_AUTO: Final = "auto"

# Options
CONF_MAX_VOLUME: Final = "max_volume"
CONF_DEFAULT_VOLUME: Final = "default_volume"
CONF_PREVIOUS_RESTART_SECONDS: Final = "previous_restart_seconds"
# Tags: what a second scan of the playing tag does, and the unknown-tag notification
CONF_SAME_TAG_ACTION: Final = "same_tag_action"
CONF_UNKNOWN_TAG_NOTIFICATION: Final = "unknown_tag_notification"
SAME_TAG_TOGGLE: Final = "toggle"
SAME_TAG_RESTART: Final = "restart"
SAME_TAG_IGNORE: Final = "ignore"
SAME_TAG_ACTIONS: Final = (SAME_TAG_TOGGLE, SAME_TAG_RESTART, SAME_TAG_IGNORE)
DEFAULT_SAME_TAG_ACTION: Final = SAME_TAG_TOGGLE
DEFAULT_UNKNOWN_TAG_NOTIFICATION: Final = True
# Imports from a URL (importer.py): the most one import may download, in MB
CONF_IMPORT_MAX_MB: Final = "import_max_mb"
DEFAULT_IMPORT_MAX_MB: Final = 500
MAX_IMPORT_MAX_MB: Final = 10_000

DEFAULT_NAME: Final = "Music Box"
DEFAULT_LIBRARY_SUBDIR: Final = "media/open_music_box"
DEFAULT_MAX_VOLUME: Final = 100
DEFAULT_VOLUME: Final = 50
DEFAULT_PREVIOUS_RESTART_SECONDS: Final = 3

# Library
AUDIO_EXTENSIONS: Final = frozenset(
    {
        ".aac",
        ".aif",
        ".aiff",
        ".flac",
        ".m4a",
        ".m4b",
        ".mka",
        ".mp3",
        ".mp4",
        ".oga",
        ".ogg",
        ".opus",
        ".wav",
        ".wma",
        ".webm",
    }
)
PLAYLIST_EXTENSIONS: Final = frozenset({".m3u", ".m3u8"})

# Media ids used by browse_media / play_media
MEDIA_TYPE_LIBRARY: Final = "library"
PLAYLIST_PREFIX: Final = "playlist:"
TRACK_PREFIX: Final = "track:"

# How often the library folder is checked for (a stat): notices it renamed, unmounted or back,
# which the folder watch cannot see.
LIBRARY_CHECK_INTERVAL_SECONDS: Final = 2

# Repair issue ids
ISSUE_LIBMPV_MISSING: Final = "libmpv_missing"
ISSUE_LIBRARY_MISSING: Final = "library_missing"

STORAGE_VERSION: Final = 1
STORAGE_MINOR_VERSION: Final = 1

# Sync rooms: config subentries of a box
SUBENTRY_ROOM: Final = "room"
SUBENTRY_SENDSPIN_PLAYER: Final = "sendspin_player"
CONF_ROOM_CONTROL: Final = "control"
CONF_ROOM_CONTROL_USERS: Final = "control_users"
CONF_ROOM_LOCAL_DEVICES: Final = "local_devices"
CONF_ROOM_ENTITY_MEMBERS: Final = "entity_members"
CONF_ROOM_SENDSPIN_PLAYERS: Final = "sendspin_players"
# Satellites' offsets set from the panel, by member id: they win over the satellite's own.
CONF_ROOM_SATELLITE_OFFSETS: Final = "satellite_offsets"
MAX_SATELLITE_OFFSETS: Final = 64  # the most recent are kept
CONF_CLIENT_ID: Final = "client_id"
CONF_OFFSET_MS: Final = "offset_ms"
CONF_ENTITY_ID: Final = "entity_id"
ROOM_CONTROL_EVERYONE: Final = "everyone"
ROOM_CONTROL_USERS: Final = "users"
ROOM_CONTROL_MODES: Final = (ROOM_CONTROL_EVERYONE, ROOM_CONTROL_USERS)
MAX_OFFSET_MS: Final = 1000
MAX_ROOM_MEMBERS: Final = 20
# Members (satellites, Listen here) one non-admin user may have in a room: nobody fills a room
# on their own. The option (box options) sets it; this is its default.
CONF_MEMBERS_PER_USER: Final = "members_per_user"
MAX_MEMBERS_PER_USER: Final = 4

# The parents' sidebar panel (panel.py); a view opens with ?tab=library|tags|rooms|children.
PANEL_URL_PATH = "open-music-box"
