"""Shared fixtures: real Home Assistant core, a generated library, a configured box."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

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

from .audio import make_track, tiny_png

ENTITY_ID = "media_player.music_box"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/open_music_box in every test."""
    return


def build_library(root: Path) -> Path:
    """Write a small library: a tagged album, an audiobook, an m3u playlist."""
    album = root / "Animals"
    make_track(
        album / "02 Cat.wav", 1.0, freq=550, title="Cat", artist="Kids", album="Animals", track=2
    )
    make_track(
        album / "01 Dog.wav",
        1.0,
        freq=440,
        title="Dog",
        artist="Kids",
        album="Animals",
        track=1,
        cover=tiny_png(),
    )
    make_track(
        album / "03 Cow.wav", 1.0, freq=660, title="Cow", artist="Kids", album="Animals", track=3
    )
    book = root / "Audiobook"
    make_track(book / "Chapter 1.wav", 20.0, freq=300)
    make_track(book / "Chapter 2.wav", 20.0, freq=320)
    (root / "Mix.m3u").write_text(
        "#EXTM3U\n#EXTINF:1,The cow\nAnimals/03 Cow.wav\nAudiobook/Chapter 1.wav\n", "utf-8"
    )
    return root


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A generated library folder."""
    return build_library(tmp_path / "library")


def box_entry(
    library: Path, output: dict[str, str] | None = None, **options: Any
) -> MockConfigEntry:
    """A config entry for a box playing `library` through mpv (or the given output data)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Music Box",
        unique_id=str(library),
        data={
            CONF_LIBRARY_PATH: str(library),
            **(output or {CONF_OUTPUT: OUTPUT_MPV, CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}),
        },
        options={
            CONF_MAX_VOLUME: 100,
            CONF_DEFAULT_VOLUME: 50,
            CONF_PREVIOUS_RESTART_SECONDS: 3,
            **options,
        },
    )


@pytest.fixture
async def entry(hass: HomeAssistant, library: Path) -> AsyncGenerator[MockConfigEntry]:
    """A loaded box (real libmpv, null audio output) on the generated library."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    config_entry = box_entry(library)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    if config_entry.state.recoverable:
        await hass.config_entries.async_unload(config_entry.entry_id)
