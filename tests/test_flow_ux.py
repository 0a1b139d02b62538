"""Flows a person gets through without raw ids or dead ends: folders, audio devices, outputs."""

# ruff: noqa: F811  (the fixtures of test_config_flow are imported, then requested by name)

from __future__ import annotations

from pathlib import Path

from homeassistant.components.media_player import DOMAIN as MP_DOMAIN
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.open_music_box.config_flow import free_default_folder
from custom_components.open_music_box.const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_LIBRARY_PATH,
    CONF_OUTPUT,
    DEFAULT_NAME,
    DOMAIN,
    OUTPUT_ENTITY,
    OUTPUT_MPV,
    OUTPUT_SENDSPIN,
)
from custom_components.open_music_box.playback.mpv_loader import device_labels

from .helpers.config_flow import (  # noqa: F401 (fixtures)
    _add_entry,
    _schema_default,
    _selector_config,
    _start_user,
    config_dir,
    mock_setup_entry,
    speaker,
)

# What mpv lists on a Raspberry Pi with PipeWire and a USB DAC (descriptions span lines).
PI_DEVICES = {
    "pipewire": "Default (pipewire)",
    "alsa": "Default (alsa)",
    "alsa/lavrate": "Rate Converter Plugin Using Libav/FFmpeg Library",
    "alsa/samplerate": "Rate Converter Plugin Using Samplerate Library",
    "alsa/speexrate": "Rate Converter Plugin Using Speex Resampler",
    "alsa/jack": "JACK Audio Connection Kit",
    "alsa/oss": "Open Sound System",
    "alsa/upmix": "Plugin for channel upmix (4,6,8)",
    "alsa/vdownmix": "Plugin for channel downmix (stereo) with a simple spacialization",
    "alsa/null": "Discard all samples (playback) or generate zero samples (capture)",
    "alsa/default": "Default ALSA Output (currently PipeWire Media Server)",
    "alsa/sysdefault:CARD=Device": "USB Audio Device, USB Audio\nDefault Audio Device",
    "alsa/front:CARD=Device,DEV=0": "USB Audio Device, USB Audio\nFront output / input",
    "alsa/hdmi:CARD=vc4hdmi0,DEV=0": "vc4-hdmi-0, MAI PCM i2s-hifi-0\nHDMI Audio Output",
    "alsa/plughw:CARD=Headphones,DEV=0": "bcm2835 Headphones\nHardware device with conversions",
    "alsa/hw:CARD=Headphones,DEV=0": "bcm2835 Headphones\nHardware device with conversions",
    "auto": "Autoselect device",
}


def test_device_labels_by_description_default_first_without_plugins() -> None:
    """The automatic device first, descriptions on one line, ALSA's plugins left out."""
    labels = device_labels(PI_DEVICES)
    assert next(iter(labels)) == AUDIO_DEVICE_AUTO
    assert labels == {
        "auto": "Autoselect device",
        "pipewire": "Default (pipewire)",
        "alsa": "Default (alsa)",
        "alsa/default": "Default ALSA Output (currently PipeWire Media Server)",
        "alsa/sysdefault:CARD=Device": "USB Audio Device, USB Audio, Default Audio Device",
        "alsa/front:CARD=Device,DEV=0": "USB Audio Device, USB Audio, Front output / input",
        "alsa/hdmi:CARD=vc4hdmi0,DEV=0": "vc4-hdmi-0, MAI PCM i2s-hifi-0, HDMI Audio Output",
        # Same description twice: the name tells them apart.
        "alsa/plughw:CARD=Headphones,DEV=0": (
            "bcm2835 Headphones, Hardware device with conversions"
            " (alsa/plughw:CARD=Headphones,DEV=0)"
        ),
        "alsa/hw:CARD=Headphones,DEV=0": (
            "bcm2835 Headphones, Hardware device with conversions (alsa/hw:CARD=Headphones,DEV=0)"
        ),
    }
    # A device already chosen stays offered, whatever it looks like.
    assert "alsa/lavrate" in device_labels(PI_DEVICES, keep=["alsa/lavrate"])


async def test_mpv_step_lists_descriptions_default_first(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The audio device step shows mpv's descriptions, the automatic device first."""
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: DEFAULT_NAME,
            CONF_LIBRARY_PATH: _schema_default(result, CONF_LIBRARY_PATH),
            CONF_OUTPUT: OUTPUT_MPV,
        },
    )
    assert result["step_id"] == "mpv"
    options = _selector_config(result, CONF_AUDIO_DEVICE)["options"]
    assert options[0] == {"value": AUDIO_DEVICE_AUTO, "label": "Autoselect device"}
    assert all(option["label"] != option["value"] for option in options)
    assert not any(option["label"].startswith("Rate Converter") for option in options)


async def test_second_box_gets_a_free_folder(hass: HomeAssistant, config_dir: Path) -> None:
    """The form of a second box proposes a folder no box uses, and creates it."""
    default = config_dir / "media" / "open_music_box"
    default.mkdir(parents=True)
    _add_entry(hass, default)
    result = await _start_user(hass)
    proposed = _schema_default(result, CONF_LIBRARY_PATH)
    assert proposed == str(config_dir / "media" / "open_music_box_2")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Kids", CONF_LIBRARY_PATH: proposed, CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["step_id"] == "mpv"
    assert await hass.async_add_executor_job(Path(proposed).is_dir)


async def test_used_folder_is_a_field_error(hass: HomeAssistant, config_dir: Path) -> None:
    """A folder another box uses is an error on the field; the typed values stay."""
    used = config_dir / "media" / "open_music_box"
    used.mkdir(parents=True)
    _add_entry(hass, used)
    result = await _start_user(hass)
    user_input = {CONF_NAME: "Kids", CONF_LIBRARY_PATH: "media/open_music_box"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, CONF_OUTPUT: OUTPUT_MPV}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_in_use"}
    assert _schema_default(result, CONF_NAME) == "Kids"
    assert _schema_default(result, CONF_LIBRARY_PATH) == "media/open_music_box"


async def test_new_folder_under_a_media_dir_is_created(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """A folder that does not exist yet is created under the media folders, not elsewhere."""
    shared = tmp_path / "nas"
    shared.mkdir()
    hass.config.media_dirs["nas"] = str(shared)
    hass.config.allowlist_external_dirs.add(str(shared))
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Kids", CONF_LIBRARY_PATH: "media/Kids songs", CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["step_id"] == "mpv"
    assert (config_dir / "media" / "Kids songs").is_dir()

    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Stories", CONF_LIBRARY_PATH: str(shared / "stories"), CONF_OUTPUT: OUTPUT_MPV},
    )
    assert result["step_id"] == "mpv"
    assert (shared / "stories").is_dir()

    # Outside the media folders nothing is created.
    result = await _start_user(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Other",
            CONF_LIBRARY_PATH: str(tmp_path / "music" / "new"),
            CONF_OUTPUT: OUTPUT_MPV,
        },
    )
    assert result["errors"] == {CONF_LIBRARY_PATH: "folder_missing"}
    assert not (tmp_path / "music" / "new").exists()


async def test_no_other_media_player_says_so(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """Choosing "another media player" when there is none but music boxes is a field error."""
    entry = _add_entry(hass, tmp_path / "music")
    er.async_get(hass).async_get_or_create(
        MP_DOMAIN, DOMAIN, entry.entry_id, config_entry=entry
    )  # the box's own player does not count
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_ENTITY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_OUTPUT: "no_media_players"}
    assert _schema_default(result, CONF_OUTPUT) == OUTPUT_ENTITY


async def test_another_player_is_offered_once_there(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path, speaker: str
) -> None:
    """With a speaker of another integration, the entity step follows."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_ENTITY}
    )
    assert result["step_id"] == "entity"


async def test_media_folder_traps_are_field_errors(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """Under the media folder a file is no folder and a link out of it is refused; then it ends."""
    media = config_dir / "media"
    media.mkdir()
    (media / "song.mp3").write_bytes(b"")
    (tmp_path / "elsewhere").mkdir()
    (media / "elsewhere").symlink_to(tmp_path / "elsewhere")
    result = await _start_user(hass)
    for typed, error in (
        ("media/song.mp3", "folder_not_directory"),
        ("media/elsewhere", "folder_not_allowed"),
    ):
        user_input = {CONF_NAME: "Kids", CONF_LIBRARY_PATH: typed, CONF_OUTPUT: OUTPUT_MPV}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["errors"] == {CONF_LIBRARY_PATH: error}, typed
        assert _schema_default(result, CONF_LIBRARY_PATH) == typed
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, CONF_LIBRARY_PATH: "media/kids"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AUDIO_DEVICE: AUDIO_DEVICE_AUTO}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LIBRARY_PATH] == str(media / "kids")


def test_every_default_folder_used_proposes_the_first(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """99 boxes on the default folders: the form proposes the first (the field error follows)."""
    base = str(config_dir / "media" / "open_music_box")
    used = {base, *(f"{base}_{index}" for index in range(2, 100))}
    assert free_default_folder(hass, used - {f"{base}_42"}) == f"{base}_42"
    assert free_default_folder(hass, used) == base


async def test_reconfigure_to_sendspin_of_a_box_not_loaded(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """A box that is not loaded has no Sendspin players to pick: it plays on the first one added."""
    entry = _add_entry(hass, tmp_path / "music")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_LIBRARY_PATH: str(tmp_path / "music"), CONF_OUTPUT: OUTPUT_SENDSPIN},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_OUTPUT] == OUTPUT_SENDSPIN
    assert CONF_AUDIO_DEVICE not in entry.data
