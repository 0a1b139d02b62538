"""Actions (services) of Open Music Box: rescan and playlist management, per box."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.media_player import DOMAIN as MP_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.typing import VolDictType
import voluptuous as vol

from .box import MusicBox
from .catalog import MAX_NAME_LENGTH
from .const import DOMAIN
from .resume import PlaylistMode
from .sleep_timer import MAX_MINUTES
from .tags import DEFAULT_ASSOCIATION_TIMEOUT

ATTR_NAME = "name"
ATTR_PLAYLIST_ID = "playlist_id"
ATTR_SOURCE_PLAYLIST_ID = "source_playlist_id"
ATTR_TARGET_PLAYLIST_ID = "target_playlist_id"
ATTR_TRACK_ID = "track_id"
ATTR_TRACK_IDS = "track_ids"
ATTR_POSITION = "position"

MAX_TRACKS_PER_CALL = 10_000

_ENTRY: dict[vol.Marker, Any] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}
_NAME = vol.All(cv.string, vol.Length(min=1, max=MAX_NAME_LENGTH))
_ID = vol.All(cv.string, vol.Length(min=1, max=64))
_IDS = vol.All(cv.ensure_list, vol.Length(max=MAX_TRACKS_PER_CALL), [_ID])
_POSITION = vol.All(vol.Coerce(int), vol.Range(min=0))

SCHEMAS: dict[str, vol.Schema] = {
    "rescan": vol.Schema(_ENTRY),
    "list_playlists": vol.Schema(_ENTRY),
    "get_playlist": vol.Schema({**_ENTRY, vol.Required(ATTR_PLAYLIST_ID): _ID}),
    "create_playlist": vol.Schema(
        {**_ENTRY, vol.Required(ATTR_NAME): _NAME, vol.Optional(ATTR_TRACK_IDS, default=[]): _IDS}
    ),
    "rename_playlist": vol.Schema(
        {**_ENTRY, vol.Required(ATTR_PLAYLIST_ID): _ID, vol.Required(ATTR_NAME): _NAME}
    ),
    "delete_playlist": vol.Schema({**_ENTRY, vol.Required(ATTR_PLAYLIST_ID): _ID}),
    "add_tracks": vol.Schema(
        {
            **_ENTRY,
            vol.Required(ATTR_PLAYLIST_ID): _ID,
            vol.Required(ATTR_TRACK_IDS): _IDS,
            vol.Optional(ATTR_POSITION): _POSITION,
        }
    ),
    "remove_tracks": vol.Schema(
        {**_ENTRY, vol.Required(ATTR_PLAYLIST_ID): _ID, vol.Required(ATTR_TRACK_IDS): _IDS}
    ),
    "reorder_playlist": vol.Schema(
        {**_ENTRY, vol.Required(ATTR_PLAYLIST_ID): _ID, vol.Required(ATTR_TRACK_IDS): _IDS}
    ),
    "move_track": vol.Schema(
        {
            **_ENTRY,
            vol.Required(ATTR_SOURCE_PLAYLIST_ID): _ID,
            vol.Required(ATTR_TARGET_PLAYLIST_ID): _ID,
            vol.Required(ATTR_TRACK_ID): _ID,
            vol.Optional(ATTR_POSITION): _POSITION,
        }
    ),
}


def loaded_box(hass: HomeAssistant, entry_id: str) -> MusicBox:
    """Return the box of a loaded entry, or raise a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    box: MusicBox = entry.runtime_data
    return box


async def _rescan(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    await box.async_rescan()
    return None


async def _list_playlists(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    playlists: list[Any] = box.hub.playlists_index()
    return {"playlists": playlists}


async def _get_playlist(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    playlist = box.catalog.require_playlist(call.data[ATTR_PLAYLIST_ID])
    tracks = [
        {
            "id": track.id,
            "title": track.title,
            "artist": track.artist,
            "album": track.album,
            "duration": track.duration,
        }
        for track in box.catalog.tracks_of(playlist)
    ]
    return {**box.hub.summary(playlist), "tracks": tracks}


async def _create_playlist(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    playlist = box.catalog.create_playlist(call.data[ATTR_NAME], call.data[ATTR_TRACK_IDS])
    return box.hub.summary(playlist)


async def _rename_playlist(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.rename_playlist(call.data[ATTR_PLAYLIST_ID], call.data[ATTR_NAME])
    return None


async def _delete_playlist(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.delete_playlist(call.data[ATTR_PLAYLIST_ID])
    return None


async def _add_tracks(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.add_tracks(
        call.data[ATTR_PLAYLIST_ID], call.data[ATTR_TRACK_IDS], call.data.get(ATTR_POSITION)
    )
    return None


async def _remove_tracks(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.remove_tracks(call.data[ATTR_PLAYLIST_ID], call.data[ATTR_TRACK_IDS])
    return None


async def _reorder_playlist(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.reorder(call.data[ATTR_PLAYLIST_ID], call.data[ATTR_TRACK_IDS])
    return None


async def _move_track(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.catalog.move_track(
        call.data[ATTR_SOURCE_PLAYLIST_ID],
        call.data[ATTR_TARGET_PLAYLIST_ID],
        call.data[ATTR_TRACK_ID],
        call.data.get(ATTR_POSITION),
    )
    return None


Handler = Callable[[MusicBox, ServiceCall], Awaitable[ServiceResponse]]

HANDLERS: dict[str, tuple[Handler, SupportsResponse]] = {
    "rescan": (_rescan, SupportsResponse.NONE),
    "list_playlists": (_list_playlists, SupportsResponse.ONLY),
    "get_playlist": (_get_playlist, SupportsResponse.ONLY),
    "create_playlist": (_create_playlist, SupportsResponse.OPTIONAL),
    "rename_playlist": (_rename_playlist, SupportsResponse.NONE),
    "delete_playlist": (_delete_playlist, SupportsResponse.NONE),
    "add_tracks": (_add_tracks, SupportsResponse.NONE),
    "remove_tracks": (_remove_tracks, SupportsResponse.NONE),
    "reorder_playlist": (_reorder_playlist, SupportsResponse.NONE),
    "move_track": (_move_track, SupportsResponse.NONE),
}


# Tags (tags.py): admin only -----------------------------------------------------------------

ATTR_TAG_ID = "tag_id"
ATTR_START_TRACK_ID = "start_track_id"
ATTR_SHUFFLE = "shuffle"
ATTR_ROOM_ID = "room_id"
ATTR_TIMEOUT = "timeout"

# Any string or number: TagManager bounds tag ids and timeouts with translated errors.
_TAG_LINK: dict[vol.Marker, Any] = {
    vol.Optional(ATTR_START_TRACK_ID): _ID,
    vol.Optional(ATTR_SHUFFLE): cv.boolean,
}


def _admin(handler: Handler) -> Handler:
    """Refuse a user who is not an administrator (automations and scripts have no user)."""

    async def checked(box: MusicBox, call: ServiceCall) -> ServiceResponse:
        if call.context.user_id:
            user = await call.hass.auth.async_get_user(call.context.user_id)
            if user is None:
                raise UnknownUser(context=call.context)
            if not user.is_admin:
                raise Unauthorized(context=call.context)
        return await handler(box, call)

    return checked


async def _link_tag(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    return box.tags.link(
        call.data[ATTR_TAG_ID],
        call.data[ATTR_PLAYLIST_ID],
        call.data.get(ATTR_START_TRACK_ID),
        call.data.get(ATTR_SHUFFLE),
        call.data.get(ATTR_ROOM_ID),
    )


async def _unlink_tag(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.tags.unlink(call.data[ATTR_TAG_ID])
    return None


async def _list_tags(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    tags: list[Any] = box.tags.list_links()
    return {"tags": tags, "session": box.tags.session}


async def _associate_tag(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    return box.tags.start_association(
        call.data[ATTR_PLAYLIST_ID],
        call.data[ATTR_TIMEOUT],
        call.data.get(ATTR_START_TRACK_ID),
        call.data.get(ATTR_SHUFFLE),
    )


async def _override_tag(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    return box.tags.override()


async def _cancel_association(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    return box.tags.cancel()


SCHEMAS.update(
    {
        "link_tag": vol.Schema(
            {
                **_ENTRY,
                vol.Required(ATTR_TAG_ID): cv.string,
                vol.Required(ATTR_PLAYLIST_ID): _ID,
                **_TAG_LINK,
                vol.Optional(ATTR_ROOM_ID): _ID,
            }
        ),
        "unlink_tag": vol.Schema({**_ENTRY, vol.Required(ATTR_TAG_ID): cv.string}),
        "list_tags": vol.Schema(_ENTRY),
        "associate_tag": vol.Schema(
            {
                **_ENTRY,
                vol.Required(ATTR_PLAYLIST_ID): _ID,
                vol.Optional(ATTR_TIMEOUT, default=DEFAULT_ASSOCIATION_TIMEOUT): vol.Coerce(int),
                **_TAG_LINK,
            }
        ),
        "override_tag": vol.Schema(_ENTRY),
        "cancel_association": vol.Schema(_ENTRY),
    }
)
HANDLERS.update(
    {
        "link_tag": (_admin(_link_tag), SupportsResponse.OPTIONAL),
        "unlink_tag": (_admin(_unlink_tag), SupportsResponse.NONE),
        "list_tags": (_list_tags, SupportsResponse.ONLY),
        "associate_tag": (_admin(_associate_tag), SupportsResponse.OPTIONAL),
        "override_tag": (_admin(_override_tag), SupportsResponse.OPTIONAL),
        "cancel_association": (_admin(_cancel_association), SupportsResponse.OPTIONAL),
    }
)


# Children's features: playlist modes (resume.py), sleep timer (sleep_timer.py) ----------------

ATTR_MODE = "mode"
ATTR_MINUTES = "minutes"


async def _set_playlist_mode(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    box.set_playlist_mode(call.data[ATTR_PLAYLIST_ID], PlaylistMode(call.data[ATTR_MODE]))
    return None


SCHEMAS["set_playlist_mode"] = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_PLAYLIST_ID): _ID,
        vol.Required(ATTR_MODE): vol.In([mode.value for mode in PlaylistMode]),
    }
)
HANDLERS["set_playlist_mode"] = (_admin(_set_playlist_mode), SupportsResponse.NONE)


# Imports from a URL (importer.py): admin only -------------------------------------------------

ATTR_URL = "url"
ATTR_PLAYLIST_NAME = "playlist_name"
ATTR_JOB_ID = "job_id"


async def _import_url(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    job = await box.importer.async_import(
        call.data[ATTR_URL], call.data.get(ATTR_PLAYLIST_NAME), call.data.get(ATTR_PLAYLIST_ID)
    )
    return job.as_dict()


async def _cancel_import(box: MusicBox, call: ServiceCall) -> ServiceResponse:
    job = await box.importer.async_cancel(call.data[ATTR_JOB_ID])
    return job.as_dict()


# The URL, the target (one of the two) and its name are checked by the importer (translated).
SCHEMAS["import_url"] = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_URL): cv.string,
        vol.Optional(ATTR_PLAYLIST_NAME): cv.string,
        vol.Optional(ATTR_PLAYLIST_ID): _ID,
    }
)
SCHEMAS["cancel_import"] = vol.Schema({**_ENTRY, vol.Required(ATTR_JOB_ID): _ID})
HANDLERS["import_url"] = (_admin(_import_url), SupportsResponse.OPTIONAL)
HANDLERS["cancel_import"] = (_admin(_cancel_import), SupportsResponse.OPTIONAL)


async def _sleep_timer(entity: Entity, call: ServiceCall) -> None:
    """Start, restart or (0 minutes) cancel the sleep timer of the entity's box."""
    entry = entity.platform.config_entry
    assert entry is not None  # entities of our platform always come from a config entry
    box: MusicBox = entry.runtime_data
    await box.sleep_timer.async_set(call.data[ATTR_MINUTES])


# Actions on the box's media_player (target: entity), not on a config entry.
ENTITY_SERVICES: dict[str, tuple[Callable[[Entity, ServiceCall], Awaitable[None]], VolDictType]] = {
    "sleep_timer": (
        _sleep_timer,
        {vol.Required(ATTR_MINUTES): vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_MINUTES))},
    ),
}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the integration (not per entry)."""
    for name, (func, schema) in ENTITY_SERVICES.items():
        service.async_register_platform_entity_service(
            hass, DOMAIN, name, entity_domain=MP_DOMAIN, func=func, schema=schema
        )
    for name, (handler, supports_response) in HANDLERS.items():

        async def _service(call: ServiceCall, handler: Handler = handler) -> ServiceResponse:
            box = loaded_box(hass, call.data[ATTR_CONFIG_ENTRY_ID])
            response = await handler(box, call)
            await box.store.async_flush()  # acknowledged means durable (storage.py)
            return response if call.return_response else None

        hass.services.async_register(
            DOMAIN, name, _service, schema=SCHEMAS[name], supports_response=supports_response
        )
