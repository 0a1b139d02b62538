"""The box's config flow: a fresh config dir, a speaker of another integration, form readers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import sys
from typing import Any
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.components.media_player import MediaPlayerEntity, MediaPlayerState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    mock_platform,
)
import voluptuous as vol

from custom_components.open_music_box.const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_DEFAULT_VOLUME,
    CONF_LIBRARY_PATH,
    CONF_MAX_VOLUME,
    CONF_OUTPUT,
    CONF_PREVIOUS_RESTART_SECONDS,
    DOMAIN,
    OUTPUT_MPV,
)

SPEAKER = "media_player.kitchen_speaker"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Point HA at a fresh config dir; allow its media folder and an extra 'music' folder."""
    config = tmp_path / "config"
    config.mkdir()
    (tmp_path / "music").mkdir()
    hass.config.config_dir = str(config)
    hass.config.media_dirs = {"local": str(config / "media")}
    hass.config.allowlist_external_dirs = {str(config / "media"), str(tmp_path / "music")}
    return config


@pytest.fixture(autouse=True)
async def mock_setup_entry(hass: HomeAssistant, config_dir: Path) -> Iterator[Any]:
    """Keep the integration's own setup out of flow tests (the HA pattern for flow tests)."""

    async def _setup(hass: HomeAssistant, entry: config_entries.ConfigEntry) -> bool:
        return True

    async def _unload(hass: HomeAssistant, entry: config_entries.ConfigEntry) -> bool:
        return True

    with (
        patch("custom_components.open_music_box.async_setup_entry", _setup, create=True),
        patch("custom_components.open_music_box.async_unload_entry", _unload, create=True),
    ):
        yield
        # Unload while the stand-ins are still in place: the real unload never runs.
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is config_entries.ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def no_libmpv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import mpv` fail as it does on a host without libmpv."""
    monkeypatch.setitem(sys.modules, "mpv", None)


class _Speaker(MediaPlayerEntity):
    """A plain media player of another integration."""

    _attr_name = "Kitchen speaker"
    _attr_unique_id = "kitchen"
    _attr_state = MediaPlayerState.IDLE


@pytest.fixture
async def speaker(hass: HomeAssistant) -> str:
    """Set up a real media_player entity on a test platform."""

    async def _setup_platform(
        hass: HomeAssistant,
        config: dict[str, Any],
        async_add_entities: AddEntitiesCallback,
        discovery_info: Any = None,
    ) -> None:
        async_add_entities([_Speaker()])

    mock_platform(hass, "test.media_player", MockPlatform(async_setup_platform=_setup_platform))
    assert await async_setup_component(hass, "media_player", {"media_player": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get(SPEAKER) is not None
    return SPEAKER


def _schema_default(result: Any, field: str) -> Any:
    """Return the default the form proposes for a field."""
    for key in result["data_schema"].schema:
        if key == field:
            return None if key.default is vol.UNDEFINED else key.default()
    raise KeyError(field)


def _selector_config(result: Any, field: str) -> dict[str, Any]:
    """Return the selector config of a form field."""
    for key, value in result["data_schema"].schema.items():
        if key == field:
            return dict(value.config)
    raise KeyError(field)


async def _start_user(hass: HomeAssistant) -> Any:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )


def _add_entry(
    hass: HomeAssistant, path: Path, data: dict[str, Any] | None = None
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Box",
        unique_id=str(path),
        data={
            CONF_LIBRARY_PATH: str(path),
            CONF_OUTPUT: OUTPUT_MPV,
            CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO,
            **(data or {}),
        },
        options={CONF_MAX_VOLUME: 100, CONF_DEFAULT_VOLUME: 50, CONF_PREVIOUS_RESTART_SECONDS: 3},
    )
    entry.add_to_hass(hass)
    return entry
