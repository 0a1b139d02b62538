"""Config, options and reconfigure flows, with real HA core and the real libmpv."""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from homeassistant import config_entries
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.open_music_box.const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_DEFAULT_VOLUME,
    CONF_IMPORT_MAX_MB,
    CONF_LIBRARY_PATH,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_PREVIOUS_RESTART_SECONDS,
    CONF_SAME_TAG_ACTION,
    CONF_TARGET_ENTITY,
    CONF_UNKNOWN_TAG_NOTIFICATION,
    DEFAULT_NAME,
    DOMAIN,
    OUTPUT_ENTITY,
    OUTPUT_MPV,
    OUTPUT_SENDSPIN,
)

from .helpers.config_flow import (  # noqa: F401 (fixtures)
    _add_entry,
    _schema_default,
    _selector_config,
    _start_user,
    config_dir,
    mock_setup_entry,
    no_libmpv,
    speaker,
)


def _option_values(result: Any, field: str) -> list[str]:
    options = _selector_config(result, field)["options"]
    return [opt if isinstance(opt, str) else opt["value"] for opt in options]


# --- user flow ------------------------------------------------------------------------------


async def test_user_flow_default_folder_mpv(hass: HomeAssistant, config_dir: Path) -> None:
    """Defaults all the way: the default folder is created and mpv plays on 'auto'."""
    default_folder = config_dir / "media" / "open_music_box"
    result = await _start_user(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert _schema_default(result, CONF_NAME) == DEFAULT_NAME
    assert _schema_default(result, CONF_LIBRARY_PATH) == str(default_folder)
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_MPV
    assert _option_values(result, CONF_OUTPUT) == [OUTPUT_MPV, OUTPUT_ENTITY, OUTPUT_SENDSPIN]
    assert not default_folder.exists()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: DEFAULT_NAME, CONF_LIBRARY_PATH: str(default_folder), CONF_OUTPUT: OUTPUT_MPV},
    )
    assert default_folder.is_dir()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mpv"
    devices = _option_values(result, CONF_AUDIO_DEVICE)
    assert devices[0] == AUDIO_DEVICE_AUTO
    assert devices.count(AUDIO_DEVICE_AUTO) == 1
    assert _schema_default(result, CONF_AUDIO_DEVICE) == AUDIO_DEVICE_AUTO

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == DEFAULT_NAME
    assert result["data"] == {
        CONF_LIBRARY_PATH: str(default_folder.resolve()),
        CONF_OUTPUT: OUTPUT_MPV,
        CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO,
    }
    assert result["options"] == {
        CONF_MAX_VOLUME: 100,
        CONF_DEFAULT_VOLUME: 50,
        CONF_PREVIOUS_RESTART_SECONDS: 3,
    }
    entry = result["result"]
    assert entry.unique_id == str(default_folder.resolve())
    assert (entry.version, entry.minor_version) == (1, 1)
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_user_flow_relative_folder(hass: HomeAssistant, config_dir: Path) -> None:
    """A relative folder resolves against the config dir; a blank name falls back."""
    folder = config_dir / "media" / "kids"
    folder.mkdir(parents=True)
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "  ", CONF_LIBRARY_PATH: " media/./kids ", CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["step_id"] == "mpv"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == DEFAULT_NAME
    assert result["data"][CONF_LIBRARY_PATH] == str(folder.resolve())


async def test_user_flow_symlink_resolved(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """The stored path is the resolved one, so two spellings of a folder are one box."""
    real = tmp_path / "music" / "albums"
    real.mkdir()
    link = tmp_path / "music" / "link"
    link.symlink_to(real)
    _add_entry(hass, real)
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Box", CONF_LIBRARY_PATH: str(link), CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_in_use"}


def _deny_access_when_root(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Root reads any folder whatever its mode; make os.access answer as for a normal user."""
    if os.geteuid() != 0:
        return
    real_access = os.access

    def access(target: Any, mode: int, **kwargs: Any) -> bool:
        if Path(target) == path:
            return False
        return real_access(target, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        ("missing", "folder_missing"),
        ("file", "folder_not_directory"),
        ("unreadable", "folder_not_readable"),
        ("outside", "folder_not_allowed"),
        ("relative_outside", "folder_not_allowed"),
        ("default_blocked", "folder_create_failed"),
    ],
)
async def test_user_flow_folder_errors(
    hass: HomeAssistant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: str,
    error: str,
) -> None:
    """Each unusable folder gives its error on the field; the form keeps the typed values."""
    music = tmp_path / "music"
    if make == "missing":
        typed = str(music / "nope")
    elif make == "file":
        (music / "song.mp3").write_bytes(b"")
        typed = str(music / "song.mp3")
    elif make == "unreadable":
        locked = music / "locked"
        locked.mkdir()
        locked.chmod(0)
        _deny_access_when_root(monkeypatch, locked)
        typed = str(locked)
    elif make == "outside":
        outside = tmp_path / "outside"
        outside.mkdir()
        typed = str(outside)
    elif make == "relative_outside":
        typed = "../music/../../"
    else:
        (Path(hass.config.config_dir) / "media").write_bytes(
            b""
        )  # a file where the media folder should be
        typed = "media/open_music_box"

    try:
        result = await _start_user(hass)
        user_input = {CONF_NAME: "Kids", CONF_LIBRARY_PATH: typed, CONF_OUTPUT: OUTPUT_MPV}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    finally:
        if make == "unreadable":
            (music / "locked").chmod(0o755)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_LIBRARY_PATH: error}
    assert _schema_default(result, CONF_NAME) == "Kids"
    assert _schema_default(result, CONF_LIBRARY_PATH) == typed

    # The user fixes the folder and goes on to the end.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, CONF_LIBRARY_PATH: str(music)}
    )
    assert result["step_id"] == "mpv"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kids"
    assert result["data"] == {
        CONF_LIBRARY_PATH: str(music.resolve()),
        CONF_OUTPUT: OUTPUT_MPV,
        CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO,
    }


async def test_user_flow_already_configured(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """One music box per library folder: a used folder is an error on the field, input kept."""
    _add_entry(hass, tmp_path / "music")
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Again", CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_in_use"}
    assert _schema_default(result, CONF_NAME) == "Again"
    assert _schema_default(result, CONF_LIBRARY_PATH) == str(tmp_path / "music")


async def test_user_flow_unknown_audio_device_rejected(hass: HomeAssistant, tmp_path: Path) -> None:
    """Only devices mpv listed can be chosen."""
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Box", CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_MPV},
    )
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_AUDIO_DEVICE: "no-such-device"}
        )
    # The form stays open: a listed device finishes the flow.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_AUDIO_DEVICE] == AUDIO_DEVICE_AUTO


async def test_user_flow_libmpv_missing(
    hass: HomeAssistant, tmp_path: Path, speaker: str, no_libmpv: None
) -> None:
    """Without libmpv the form says why and offers only another media player."""
    result = await _start_user(hass)
    assert result["errors"] == {"base": "libmpv_missing"}
    assert _option_values(result, CONF_OUTPUT) == [OUTPUT_ENTITY, OUTPUT_SENDSPIN]
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_ENTITY

    user_input = {CONF_NAME: "Box", CONF_LIBRARY_PATH: str(tmp_path / "music")}
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {**user_input, CONF_OUTPUT: OUTPUT_MPV}
        )

    # A folder error keeps explaining the missing libmpv.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **user_input,
            CONF_LIBRARY_PATH: str(tmp_path / "music" / "x"),
            CONF_OUTPUT: OUTPUT_ENTITY,
        },
    )
    assert result["errors"] == {"base": "libmpv_missing", CONF_LIBRARY_PATH: "folder_missing"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, CONF_OUTPUT: OUTPUT_ENTITY}
    )
    assert result["step_id"] == "entity"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: speaker}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_LIBRARY_PATH: str((tmp_path / "music").resolve()),
        CONF_OUTPUT: OUTPUT_ENTITY,
        CONF_TARGET_ENTITY: speaker,
    }


# --- entity output --------------------------------------------------------------------------


async def _entity_step(hass: HomeAssistant, tmp_path: Path) -> Any:
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Box", CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_ENTITY},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "entity"
    return result


async def test_entity_output(hass: HomeAssistant, tmp_path: Path, speaker: str) -> None:
    """Another media player becomes the output; our own players are not offered."""
    registry = er.async_get(hass)
    own = registry.async_get_or_create("media_player", DOMAIN, "other_box")
    result = await _entity_step(hass, tmp_path)
    config = _selector_config(result, CONF_TARGET_ENTITY)
    assert config["domain"] == ["media_player"]
    assert config["exclude_entities"] == [own.entity_id]

    # The selector itself refuses our own player and other domains.
    for bad in (own.entity_id, "light.kitchen"):
        with pytest.raises(InvalidData):
            await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_TARGET_ENTITY: bad}
            )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: speaker}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TARGET_ENTITY] == speaker
    assert result["data"][CONF_OUTPUT] == OUTPUT_ENTITY
    assert CONF_AUDIO_DEVICE not in result["data"]


async def test_entity_output_by_registry_id(
    hass: HomeAssistant, tmp_path: Path, speaker: str
) -> None:
    """The selector may send a registry id; the entity id is stored."""
    speaker_entry = er.async_get(hass).async_get(speaker)
    assert speaker_entry is not None
    result = await _entity_step(hass, tmp_path)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: speaker_entry.id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TARGET_ENTITY] == speaker


async def test_entity_output_registered_but_not_loaded(hass: HomeAssistant, tmp_path: Path) -> None:
    """A registered player whose integration is not loaded yet is accepted."""
    entity = er.async_get(hass).async_get_or_create("media_player", "cast", "living_room")
    assert hass.states.get(entity.entity_id) is None
    result = await _entity_step(hass, tmp_path)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: entity.entity_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TARGET_ENTITY] == entity.entity_id


async def test_entity_output_errors(hass: HomeAssistant, tmp_path: Path, speaker: str) -> None:
    """Unknown players, other domains and music boxes given by registry id are refused."""
    registry = er.async_get(hass)
    own = registry.async_get_or_create("media_player", DOMAIN, "other_box")
    light = registry.async_get_or_create("light", "test", "lamp")
    result = await _entity_step(hass, tmp_path)

    cases = [
        ("media_player.nowhere", "entity_not_found"),
        ("0123456789abcdef0123456789abcdef", "entity_not_found"),  # unknown registry id
        (light.id, "entity_not_found"),
        (own.id, "entity_is_music_box"),
    ]
    for value, error in cases:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_TARGET_ENTITY: value}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "entity"
        assert result["errors"] == {CONF_TARGET_ENTITY: error}, value

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: speaker}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


# --- options --------------------------------------------------------------------------------


async def test_options_flow(hass: HomeAssistant, tmp_path: Path) -> None:
    """Sliders with the current values; default volume above max is refused."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert _schema_default(result, CONF_MAX_VOLUME) == 100
    assert _schema_default(result, CONF_DEFAULT_VOLUME) == 50
    assert _schema_default(result, CONF_PREVIOUS_RESTART_SECONDS) == 3
    volume = _selector_config(result, CONF_MAX_VOLUME)
    assert (volume["min"], volume["max"], volume["unit_of_measurement"], volume["mode"]) == (
        0,
        100,
        "%",
        "slider",
    )
    assert _selector_config(result, CONF_PREVIOUS_RESTART_SECONDS)["max"] == 60

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_MAX_VOLUME: 40, CONF_DEFAULT_VOLUME: 60, CONF_PREVIOUS_RESTART_SECONDS: 5},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_DEFAULT_VOLUME: "default_volume_above_max"}
    assert _schema_default(result, CONF_MAX_VOLUME) == 40
    assert _schema_default(result, CONF_DEFAULT_VOLUME) == 60

    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_MAX_VOLUME: 101, CONF_DEFAULT_VOLUME: 60, CONF_PREVIOUS_RESTART_SECONDS: 5},
        )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_MAX_VOLUME: 40.0, CONF_DEFAULT_VOLUME: 40.0, CONF_PREVIOUS_RESTART_SECONDS: 0},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_MAX_VOLUME: 40,
        CONF_DEFAULT_VOLUME: 40,
        CONF_PREVIOUS_RESTART_SECONDS: 0,
    }
    assert all(type(value) is int for value in entry.options.values())


async def test_options_flow_fills_missing_options(hass: HomeAssistant, tmp_path: Path) -> None:
    """An entry without options gets the defaults proposed."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=str(tmp_path / "music"),
        data={CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_MPV},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _schema_default(result, CONF_MAX_VOLUME) == 100
    assert _schema_default(result, CONF_DEFAULT_VOLUME) == 50
    assert _schema_default(result, CONF_PREVIOUS_RESTART_SECONDS) == 3


# --- reconfigure ----------------------------------------------------------------------------


async def test_reconfigure_to_entity(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path, speaker: str
) -> None:
    """Move a box to another folder and to another media player; unique id follows."""
    entry = _add_entry(hass, tmp_path / "music")
    new_folder = config_dir / "media" / "stories"
    new_folder.mkdir(parents=True)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert _schema_default(result, CONF_LIBRARY_PATH) == str(tmp_path / "music")
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_MPV

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: "media/stories", CONF_OUTPUT: OUTPUT_ENTITY}
    )
    assert result["step_id"] == "entity"
    assert _schema_default(result, CONF_TARGET_ENTITY) is None  # no player chosen before

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TARGET_ENTITY: speaker}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == str(new_folder.resolve())
    assert entry.title == "Box"
    assert dict(entry.data) == {
        CONF_LIBRARY_PATH: str(new_folder.resolve()),
        CONF_OUTPUT: OUTPUT_ENTITY,
        CONF_TARGET_ENTITY: speaker,
    }
    assert entry.options[CONF_MAX_VOLUME] == 100
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_reconfigure_keeps_folder_and_device(hass: HomeAssistant, tmp_path: Path) -> None:
    """Its own folder is not 'already configured'; the current device is preselected."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_MPV}
    )
    assert result["step_id"] == "mpv"
    assert _schema_default(result, CONF_AUDIO_DEVICE) == AUDIO_DEVICE_AUTO
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == str(tmp_path / "music")


async def test_reconfigure_entity_to_mpv(hass: HomeAssistant, tmp_path: Path, speaker: str) -> None:
    """From an entity output back to mpv: 'auto' is proposed."""
    entry = _add_entry(
        hass,
        tmp_path / "music",
        {CONF_OUTPUT: OUTPUT_ENTITY, CONF_TARGET_ENTITY: speaker, CONF_AUDIO_DEVICE: "gone"},
    )
    result = await entry.start_reconfigure_flow(hass)
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_ENTITY
    # The current player is proposed when staying on an entity output.
    entity_form = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_ENTITY}
    )
    assert _schema_default(entity_form, CONF_TARGET_ENTITY) == speaker
    hass.config_entries.flow.async_abort(entity_form["flow_id"])

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_MPV}
    )
    assert result["step_id"] == "mpv"
    assert _schema_default(result, CONF_AUDIO_DEVICE) == AUDIO_DEVICE_AUTO
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {
        CONF_LIBRARY_PATH: str(tmp_path / "music"),
        CONF_OUTPUT: OUTPUT_MPV,
        CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO,
    }


async def test_reconfigure_folder_of_another_box(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """Two boxes never share a folder."""
    entry = _add_entry(hass, tmp_path / "music")
    other_folder = config_dir / "media" / "other"
    other_folder.mkdir(parents=True)
    _add_entry(hass, other_folder)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(other_folder), CONF_OUTPUT: OUTPUT_MPV}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_in_use"}
    assert _schema_default(result, CONF_LIBRARY_PATH) == str(other_folder)
    assert entry.data[CONF_LIBRARY_PATH] == str(tmp_path / "music")


async def test_reconfigure_folder_error(hass: HomeAssistant, tmp_path: Path) -> None:
    """Reconfigure validates the folder like the user step."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await entry.start_reconfigure_flow(hass)
    typed = str(tmp_path / "music" / "nope")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: typed, CONF_OUTPUT: OUTPUT_MPV}
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_missing"}
    assert _schema_default(result, CONF_LIBRARY_PATH) == typed


async def test_reconfigure_libmpv_missing(
    hass: HomeAssistant, tmp_path: Path, no_libmpv: None
) -> None:
    """An mpv box on a host that lost libmpv is steered to an entity output."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await entry.start_reconfigure_flow(hass)
    assert result["errors"] == {"base": "libmpv_missing"}
    assert _option_values(result, CONF_OUTPUT) == [OUTPUT_ENTITY, OUTPUT_SENDSPIN]
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_ENTITY


# --- tag options (tags.py) ------------------------------------------------------------------


def _suggested(result: Any, field: str) -> Any:
    """Return the value the form shows for an optional field."""
    for key in result["data_schema"].schema:
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise KeyError(field)


async def test_options_flow_tag_options(hass: HomeAssistant, tmp_path: Path) -> None:
    """Same-tag action (translated select) and the unknown-tag notification; kept when left out."""
    entry = _add_entry(hass, tmp_path / "music")
    volumes = {CONF_MAX_VOLUME: 80, CONF_DEFAULT_VOLUME: 40, CONF_PREVIOUS_RESTART_SECONDS: 3}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _suggested(result, CONF_SAME_TAG_ACTION) == "toggle"
    assert _suggested(result, CONF_UNKNOWN_TAG_NOTIFICATION) is True
    select = _selector_config(result, CONF_SAME_TAG_ACTION)
    assert select["options"] == ["toggle", "restart", "ignore"]
    assert select["translation_key"] == CONF_SAME_TAG_ACTION

    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**volumes, CONF_SAME_TAG_ACTION: "explode"}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**volumes, CONF_SAME_TAG_ACTION: "restart", CONF_UNKNOWN_TAG_NOTIFICATION: False},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        **volumes,
        CONF_SAME_TAG_ACTION: "restart",
        CONF_UNKNOWN_TAG_NOTIFICATION: False,
    }

    # The form shows what is set; a caller that leaves the tag fields out keeps them.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _suggested(result, CONF_SAME_TAG_ACTION) == "restart"
    assert _suggested(result, CONF_UNKNOWN_TAG_NOTIFICATION) is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**volumes, CONF_MAX_VOLUME: 90}
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_MAX_VOLUME] == 90
    assert entry.options[CONF_SAME_TAG_ACTION] == "restart"
    assert entry.options[CONF_UNKNOWN_TAG_NOTIFICATION] is False


# --- import option (imports/importer.py) ----------------------------------------------------


async def test_options_flow_import_max_size(hass: HomeAssistant, tmp_path: Path) -> None:
    """The most an import may download: 500 MB proposed, 1 to 10,000 MB, kept when left out."""
    entry = _add_entry(hass, tmp_path / "music")
    volumes = {CONF_MAX_VOLUME: 80, CONF_DEFAULT_VOLUME: 40, CONF_PREVIOUS_RESTART_SECONDS: 3}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _suggested(result, CONF_IMPORT_MAX_MB) == 500
    size = _selector_config(result, CONF_IMPORT_MAX_MB)
    assert (size["min"], size["max"], size["unit_of_measurement"], size["mode"]) == (
        1,
        10_000,
        "MB",
        "box",
    )
    for wrong in (0, 10_001):
        with pytest.raises(InvalidData):
            await hass.config_entries.options.async_configure(
                result["flow_id"], {**volumes, CONF_IMPORT_MAX_MB: wrong}
            )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**volumes, CONF_IMPORT_MAX_MB: 50.0}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {**volumes, CONF_IMPORT_MAX_MB: 50}
    assert type(entry.options[CONF_IMPORT_MAX_MB]) is int

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _suggested(result, CONF_IMPORT_MAX_MB) == 50
    result = await hass.config_entries.options.async_configure(result["flow_id"], volumes)
    await hass.async_block_till_done()
    assert entry.options[CONF_IMPORT_MAX_MB] == 50
