"""The box's actions (services) refuse bad input with a clear translated error.

Real HA core, real libmpv (ao=null).
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
import voluptuous as vol

from custom_components.open_music_box.api.validation import MAX_TRACKS_PER_CALL
from custom_components.open_music_box.const import DOMAIN

from .helpers.services import (
    ALL_SERVICES,
    ANIMALS,
    COMPONENT,
    MIX,
    call,
    create,
    everything,
    flush_saves,
    media_dir,  # noqa: F401 (fixtures)
    playlists,
    store_key,
    track_ids,
)

# Bad input ---------------------------------------------------------------------------------

type Ids = dict[str, str]


@pytest.fixture
async def ids(hass: HomeAssistant, entry: MockConfigEntry) -> Ids:
    """Two user playlists ("one": Dog Cat Dog, "two": empty) and ids to build calls with."""
    tracks = await track_ids(hass, entry)
    dog, cat, cow = tracks["Dog"], tracks["Cat"], tracks["Cow"]
    return {
        "one": await create(hass, entry, "One", dog, cat, dog),
        "two": await create(hass, entry, "Two"),
        "folder": ANIMALS,
        "m3u": MIX,
        "dog": dog,
        "cat": cat,
        "cow": cow,
    }


def resolve(data: dict[str, Any], ids: Ids) -> dict[str, Any]:
    """Replace "@name" strings (alone or in lists) by the id of that name."""

    def one(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return ids[value[1:]]
        return [one(item) for item in value] if isinstance(value, list) else value

    return {key: one(value) for key, value in data.items()}


def moving(source: str, target: str, track: str | None = None, **extra: Any) -> dict[str, Any]:
    """Data of a move_track call."""
    data = {"source_playlist_id": source, "target_playlist_id": target, **extra}
    return data if track is None else data | {"track_id": track}


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("get_playlist", {"playlist_id": "nope"}, "unknown_playlist"),
    ("rename_playlist", {"playlist_id": "nope", "name": "x"}, "unknown_playlist"),
    ("delete_playlist", {"playlist_id": "nope"}, "unknown_playlist"),
    ("add_tracks", {"playlist_id": "nope", "track_ids": ["@dog"]}, "unknown_playlist"),
    ("remove_tracks", {"playlist_id": "nope", "track_ids": ["@dog"]}, "unknown_playlist"),
    ("reorder_playlist", {"playlist_id": "nope", "track_ids": []}, "unknown_playlist"),
    ("move_track", moving("nope", "@one", "@dog"), "unknown_playlist"),
    ("move_track", moving("@one", "nope", "@dog"), "unknown_playlist"),
    ("create_playlist", {"name": "New", "track_ids": ["@dog", "tnope"]}, "unknown_track"),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@cow", "tnope"]}, "unknown_track"),
    ("rename_playlist", {"playlist_id": "@folder", "name": "x"}, "read_only_playlist"),
    ("rename_playlist", {"playlist_id": "@m3u", "name": "x"}, "read_only_playlist"),
    ("delete_playlist", {"playlist_id": "@folder"}, "read_only_playlist"),
    ("delete_playlist", {"playlist_id": "@m3u"}, "read_only_playlist"),
    ("add_tracks", {"playlist_id": "@folder", "track_ids": ["@cow"]}, "read_only_playlist"),
    ("remove_tracks", {"playlist_id": "@m3u", "track_ids": ["@cow"]}, "read_only_playlist"),
    (
        "reorder_playlist",
        {"playlist_id": "@folder", "track_ids": ["@cow", "@cat", "@dog"]},
        "read_only_playlist",
    ),
    ("move_track", moving("@folder", "@one", "@cow"), "read_only_playlist"),
    ("move_track", moving("@one", "@m3u", "@dog"), "read_only_playlist"),
    ("create_playlist", {"name": "   "}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": " \t "}, "invalid_playlist_name"),
    ("create_playlist", {"name": ""}, "invalid_playlist_name"),
    ("create_playlist", {"name": "x" * 101}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": ""}, "invalid_playlist_name"),
    ("rename_playlist", {"playlist_id": "@one", "name": "y" * 101}, "invalid_playlist_name"),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@dog"]},
        "not_a_permutation",
    ),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@dog", "@dog", "@dog"]},
        "not_a_permutation",
    ),
    (
        "reorder_playlist",
        {"playlist_id": "@one", "track_ids": ["@cat", "@cat", "@dog"]},
        "not_a_permutation",
    ),
    (
        "remove_tracks",
        {"playlist_id": "@one", "track_ids": ["@dog", "@cow"]},
        "track_not_in_playlist",
    ),
    ("move_track", moving("@one", "@two", "@cow"), "track_not_in_playlist"),
]


@pytest.mark.parametrize(("service", "data", "key"), BAD_INPUT)
async def test_bad_input_changes_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    ids: Ids,
    *,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Each mistake is a translated validation error, and no playlist changes or is saved."""
    await flush_saves(hass)
    saved = hass_storage.pop(store_key(entry))
    assert saved["data"]["playlists"].keys() == {ids["one"], ids["two"]}  # written
    before = await everything(hass, entry)

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, entry.entry_id, service, resolve(data, ids))

    assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, key)
    assert str(err.value) not in ("", key)  # the English message, not the bare key
    assert await everything(hass, entry) == before
    await flush_saves(hass)
    assert store_key(entry) not in hass_storage  # no save was even scheduled


TOO_MANY = MAX_TRACKS_PER_CALL + 1
SCHEMA_REJECTS: list[tuple[str, dict[str, Any]]] = [
    ("create_playlist", {"name": ["a", "b"]}),
    ("create_playlist", {}),
    ("create_playlist", {"name": "Big", "track_ids": ["@dog"] * TOO_MANY}),
    ("create_playlist", {"name": "Long id", "track_ids": ["t" * 65]}),
    ("create_playlist", {"name": "Empty id", "track_ids": [""]}),
    ("rename_playlist", {"playlist_id": "@one"}),
    ("get_playlist", {}),
    ("get_playlist", {"playlist_id": ""}),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "position": -1}),
    ("add_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "position": "first"}),
    ("add_tracks", {"playlist_id": "@one"}),
    ("remove_tracks", {"playlist_id": "@one", "track_ids": ["@dog"], "extra": 1}),
    ("reorder_playlist", {"playlist_id": "@one", "track_ids": ["@dog"] * TOO_MANY}),
    ("move_track", moving("@one", "@two")),
    ("move_track", moving("@one", "@two", "@dog", position=-2)),
]


@pytest.mark.parametrize(("service", "data"), SCHEMA_REJECTS)
async def test_schema_rejects(
    hass: HomeAssistant, entry: MockConfigEntry, ids: Ids, service: str, data: dict[str, Any]
) -> None:
    """Malformed calls never reach the box: voluptuous rejects them, nothing changes."""
    before = await everything(hass, entry)
    with pytest.raises(vol.Invalid):
        await call(hass, entry.entry_id, service, resolve(data, ids))
    assert await everything(hass, entry) == before


def _fields(hass: HomeAssistant, service: str) -> set[str]:
    """Return the field names an action's schema knows."""
    schema = hass.services.async_services_for_domain(DOMAIN)[service].schema
    assert isinstance(schema, vol.Schema)
    return {str(key) for key in schema.schema}


@pytest.mark.parametrize("service", ALL_SERVICES)
async def test_unknown_entry(hass: HomeAssistant, entry: MockConfigEntry, service: str) -> None:
    """An entry id that is not a music box is refused by every action."""
    other = MockConfigEntry(domain="other_domain", title="Other")
    other.add_to_hass(hass)
    valid = {
        "playlist_id": ANIMALS,
        "name": "x",
        "track_ids": [],
        "source_playlist_id": ANIMALS,
        "target_playlist_id": ANIMALS,
        "track_id": "t1",
    }
    data = {k: v for k, v in valid.items() if k in _fields(hass, service)}
    for entry_id in ("no_such_entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, entry_id, service, data)
        assert (err.value.translation_domain, err.value.translation_key) == (
            DOMAIN,
            "entry_not_found",
        )
        assert err.value.translation_placeholders == {"entry_id": entry_id}


async def test_entry_not_loaded(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """A box that is not loaded answers no action (the actions stay registered)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    for service, data in (("list_playlists", {}), ("create_playlist", {"name": "x"})):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, entry.entry_id, service, data)
        assert err.value.translation_key == "entry_not_loaded"
        assert err.value.translation_placeholders == {"name": "Music Box"}

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert len(await playlists(hass, entry)) == 3


def test_error_keys_are_translated() -> None:
    """Every error the actions and play_media raise has a message (en, fr) with its fields."""
    placeholders = {
        "entry_not_found": {"entry_id"},
        "entry_not_loaded": {"name"},
        "unknown_playlist": {"playlist_id"},
        "unknown_track": {"track_id"},
        "read_only_playlist": {"name"},
        "invalid_playlist_name": {"max"},
        "not_a_permutation": set(),
        "track_not_in_playlist": {"track_id"},
        "unknown_media": {"media_id"},
        "empty_playlist": {"media_id"},
        "file_not_found": {"path"},
    }
    for name in ("strings.json", "translations/en.json", "translations/fr.json"):
        strings = json.loads((COMPONENT / name).read_text("utf-8"))
        exceptions = strings.get("exceptions", {})
        for key, fields in placeholders.items():
            assert key in exceptions, f"{name}: exceptions.{key} is missing"
            message = exceptions[key]["message"]
            for field in fields:
                assert f"{{{field}}}" in message, f"{name}: {key} does not show {{{field}}}"
        issue = strings.get("issues", {}).get("library_missing")
        assert issue is not None, f"{name}: issues.library_missing is missing"
        assert "{path}" in issue["description"]
