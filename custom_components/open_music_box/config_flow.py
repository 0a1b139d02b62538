"""Config, options and reconfigure flows for Open Music Box."""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.components.media_player.const import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from . import mpv_loader
from .const import (
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
    DEFAULT_IMPORT_MAX_MB,
    DEFAULT_LIBRARY_SUBDIR,
    DEFAULT_MAX_VOLUME,
    DEFAULT_NAME,
    DEFAULT_PREVIOUS_RESTART_SECONDS,
    DEFAULT_SAME_TAG_ACTION,
    DEFAULT_UNKNOWN_TAG_NOTIFICATION,
    DEFAULT_VOLUME,
    DOMAIN,
    MAX_IMPORT_MAX_MB,
    OUTPUT_ENTITY,
    OUTPUT_MPV,
    SAME_TAG_ACTIONS,
    SUBENTRY_ROOM,
)
from .room_flow import RoomSubentryFlow

if TYPE_CHECKING:
    from .box import OpenMusicBoxConfigEntry

DEFAULT_OPTIONS: dict[str, int] = {
    CONF_MAX_VOLUME: DEFAULT_MAX_VOLUME,
    CONF_DEFAULT_VOLUME: DEFAULT_VOLUME,
    CONF_PREVIOUS_RESTART_SECONDS: DEFAULT_PREVIOUS_RESTART_SECONDS,
}

# mpv names its automatic device "auto"; this label is only used if mpv gives none.
_AUTO_LABEL = "Autoselect device"


class LibraryFolderError(Exception):
    """The library folder is not usable; the message is a flow error key."""


def resolve_library_folder(hass: HomeAssistant, raw: str) -> str:
    """Validate the typed folder and return its resolved absolute path. Blocking: executor.

    Relative paths are relative to the config dir. The default folder is ours, inside the
    config dir: it is created when absent and needs no allowlist entry (a user who changed
    media_dirs would otherwise be refused the folder we proposed). Any other folder must
    already exist and be allowed by `allowlist_external_dirs`/`media_dirs`.
    """
    default = os.path.normpath(hass.config.path(DEFAULT_LIBRARY_SUBDIR))
    candidate = os.path.normpath(hass.config.path(raw.strip()))
    is_default = candidate == default
    if is_default:
        try:
            Path(default).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LibraryFolderError("folder_create_failed") from err
    path = Path(candidate).resolve()
    # Checked first so that nothing is revealed about folders outside the allowlist.
    if not is_default and not hass.config.is_allowed_path(str(path)):
        raise LibraryFolderError("folder_not_allowed")
    if not path.exists():
        raise LibraryFolderError("folder_missing")
    if not path.is_dir():
        raise LibraryFolderError("folder_not_directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise LibraryFolderError("folder_not_readable")
    return str(path)


def _output_selector(libmpv_missing: bool) -> SelectSelector:
    """Offer mpv only where libmpv loads."""
    options = [OUTPUT_ENTITY] if libmpv_missing else [OUTPUT_MPV, OUTPUT_ENTITY]
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=CONF_OUTPUT, mode=SelectSelectorMode.LIST
        )
    )


class OpenMusicBoxConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a music box: library folder, then its audio output."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._name = DEFAULT_NAME
        self._library_path = ""
        self._output = OUTPUT_MPV
        self._probe = mpv_loader.AudioDeviceProbe()
        # None once probed means libmpv is missing.
        self._audio_devices: dict[str, str] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: OpenMusicBoxConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return OpenMusicBoxOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: OpenMusicBoxConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry flows of a box: its sync rooms."""
        return {SUBENTRY_ROOM: RoomSubentryFlow}

    async def _async_folder(self, user_input: dict[str, Any], errors: dict[str, str]) -> str | None:
        """Check the folder in the executor; on failure, put the error key in `errors`."""
        try:
            path: str = await self.hass.async_add_executor_job(
                resolve_library_folder, self.hass, user_input[CONF_LIBRARY_PATH]
            )
        except LibraryFolderError as err:
            errors[CONF_LIBRARY_PATH] = str(err)
            return None
        return path

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the name, the library folder and the kind of output."""
        await self._async_probe_mpv()
        errors = self._base_errors()
        if user_input is not None and (path := await self._async_folder(user_input, errors)):
            await self.async_set_unique_id(path)
            self._abort_if_unique_id_configured()
            self._name = user_input[CONF_NAME].strip() or DEFAULT_NAME
            self._library_path = path
            return await self._async_step_output(user_input[CONF_OUTPUT])

        values = user_input or {
            CONF_NAME: DEFAULT_NAME,
            CONF_LIBRARY_PATH: self.hass.config.path(DEFAULT_LIBRARY_SUBDIR),
            CONF_OUTPUT: self._default_output(OUTPUT_MPV),
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME, default=values[CONF_NAME]): TextSelector(),
                vol.Required(CONF_LIBRARY_PATH, default=values[CONF_LIBRARY_PATH]): TextSelector(),
                vol.Required(CONF_OUTPUT, default=values[CONF_OUTPUT]): _output_selector(
                    self._audio_devices is None
                ),
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the library folder and the output of an existing music box."""
        entry = self._get_reconfigure_entry()
        await self._async_probe_mpv()
        errors = self._base_errors()
        if user_input is not None and (path := await self._async_folder(user_input, errors)):
            if self._folder_used_elsewhere(path):
                return self.async_abort(reason="already_configured")
            self._library_path = path
            return await self._async_step_output(user_input[CONF_OUTPUT])

        values = user_input or {
            CONF_LIBRARY_PATH: entry.data[CONF_LIBRARY_PATH],
            CONF_OUTPUT: self._default_output(entry.data[CONF_OUTPUT]),
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_LIBRARY_PATH, default=values[CONF_LIBRARY_PATH]): TextSelector(),
                vol.Required(CONF_OUTPUT, default=values[CONF_OUTPUT]): _output_selector(
                    self._audio_devices is None
                ),
            }
        )
        return self.async_show_form(step_id="reconfigure", data_schema=schema, errors=errors)

    async def async_step_mpv(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the host audio device mpv plays on."""
        if user_input is not None:
            return self._async_finish({CONF_AUDIO_DEVICE: user_input[CONF_AUDIO_DEVICE]})

        devices = self._audio_devices or {}
        options = [
            SelectOptionDict(
                value=AUDIO_DEVICE_AUTO, label=devices.get(AUDIO_DEVICE_AUTO, _AUTO_LABEL)
            )
        ] + [
            SelectOptionDict(value=name, label=label)
            for name, label in devices.items()
            if name != AUDIO_DEVICE_AUTO
        ]
        current = self._current_data().get(CONF_AUDIO_DEVICE)
        default = current if current in devices else AUDIO_DEVICE_AUTO
        schema = vol.Schema(
            {
                vol.Required(CONF_AUDIO_DEVICE, default=default): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
                )
            }
        )
        return self.async_show_form(step_id="mpv", data_schema=schema)

    async def async_step_entity(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the media player the music box plays through."""
        registry = er.async_get(self.hass)
        own_entities = [
            entity.entity_id
            for entity in registry.entities.values()
            if entity.platform == DOMAIN and entity.domain == MEDIA_PLAYER_DOMAIN
        ]
        errors: dict[str, str] = {}
        if user_input is not None:
            # The selector also accepts registry ids (UUIDs) and does not check those.
            entity_id = er.async_resolve_entity_id(registry, user_input[CONF_TARGET_ENTITY])
            if entity_id in own_entities:
                errors[CONF_TARGET_ENTITY] = "entity_is_music_box"
            elif (
                entity_id is None
                or split_entity_id(entity_id)[0] != MEDIA_PLAYER_DOMAIN
                or (self.hass.states.get(entity_id) is None and entity_id not in registry.entities)
            ):
                errors[CONF_TARGET_ENTITY] = "entity_not_found"
            else:
                return self._async_finish({CONF_TARGET_ENTITY: entity_id})

        field = vol.Required(CONF_TARGET_ENTITY)
        if current := self._current_data().get(CONF_TARGET_ENTITY):
            field = vol.Required(CONF_TARGET_ENTITY, default=current)
        schema = vol.Schema(
            {
                field: EntitySelector(
                    EntitySelectorConfig(domain=MEDIA_PLAYER_DOMAIN, exclude_entities=own_entities)
                )
            }
        )
        return self.async_show_form(step_id="entity", data_schema=schema, errors=errors)

    async def _async_probe_mpv(self) -> None:
        """Load libmpv once per flow and list its audio devices (both blocking)."""
        self._audio_devices = await self._probe.async_probe(self.hass)

    def _base_errors(self) -> dict[str, str]:
        """Explain up front why the mpv output is not offered."""
        return {"base": "libmpv_missing"} if self._audio_devices is None else {}

    def _default_output(self, wanted: str) -> str:
        """Return the output to preselect: mpv cannot be chosen without libmpv."""
        return OUTPUT_ENTITY if self._audio_devices is None else wanted

    def _current_data(self) -> dict[str, Any]:
        """Return the entry data being reconfigured, for defaults; empty in the user flow."""
        if self.source == SOURCE_RECONFIGURE:
            return dict(self._get_reconfigure_entry().data)
        return {}

    async def _async_step_output(self, output: str) -> ConfigFlowResult:
        """Go on to the step of the chosen output."""
        self._output = output
        if output == OUTPUT_MPV:
            return await self.async_step_mpv()
        return await self.async_step_entity()

    @callback
    def _folder_used_elsewhere(self, path: str) -> bool:
        """Return True when another music box already uses this folder (reconfigure)."""
        return any(
            entry.entry_id != self._reconfigure_entry_id and entry.unique_id == path
            for entry in self._async_current_entries(include_ignore=False)
        )

    @callback
    def _async_finish(self, output_data: dict[str, str]) -> ConfigFlowResult:
        """Create the entry, or update and reload the one being reconfigured."""
        data = {CONF_LIBRARY_PATH: self._library_path, CONF_OUTPUT: self._output, **output_data}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), unique_id=self._library_path, data=data
            )
        return self.async_create_entry(title=self._name, data=data, options=DEFAULT_OPTIONS)


class OpenMusicBoxOptionsFlow(OptionsFlow):
    """Volume cap, default volume and the "previous" behaviour.

    Not OptionsFlowWithReload: the entry's update listener applies new options to the
    running box, so changing the volume cap never interrupts what is playing (HA refuses
    OptionsFlowWithReload when an update listener exists).
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {key: int(user_input[key]) for key in DEFAULT_OPTIONS}
            options.update(_optional_options(user_input, self.config_entry.options))
            if options[CONF_DEFAULT_VOLUME] > options[CONF_MAX_VOLUME]:
                errors[CONF_DEFAULT_VOLUME] = "default_volume_above_max"
            else:
                return self.async_create_entry(data=options)

        values = {**DEFAULT_OPTIONS, **self.config_entry.options, **(user_input or {})}
        schema = vol.Schema(
            {
                vol.Required(CONF_MAX_VOLUME, default=values[CONF_MAX_VOLUME]): _slider(100, "%"),
                vol.Required(CONF_DEFAULT_VOLUME, default=values[CONF_DEFAULT_VOLUME]): _slider(
                    100, "%"
                ),
                vol.Required(
                    CONF_PREVIOUS_RESTART_SECONDS, default=values[CONF_PREVIOUS_RESTART_SECONDS]
                ): _slider(60, "s"),
                **_tag_fields(values),
                **_import_fields(values),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)


# Tag options (tags.py): optional fields, so a caller that leaves them out keeps what was set.
_TAG_DEFAULTS: dict[str, Any] = {
    CONF_SAME_TAG_ACTION: DEFAULT_SAME_TAG_ACTION,
    CONF_UNKNOWN_TAG_NOTIFICATION: DEFAULT_UNKNOWN_TAG_NOTIFICATION,
}


# Imports from a URL (importer.py): optional too; a whole number of MB.
_IMPORT_DEFAULTS: dict[str, Any] = {CONF_IMPORT_MAX_MB: DEFAULT_IMPORT_MAX_MB}


def _optional_options(user_input: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Return the optional (tag, import) options given, or else already set."""
    options = {
        key: user_input[key] if key in user_input else current[key]
        for key in (*_TAG_DEFAULTS, *_IMPORT_DEFAULTS)
        if key in user_input or key in current
    }
    if CONF_IMPORT_MAX_MB in options:
        options[CONF_IMPORT_MAX_MB] = int(options[CONF_IMPORT_MAX_MB])
    return options


def _import_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the import fields, showing the current (or default) values."""
    shown = {"suggested_value": values.get(CONF_IMPORT_MAX_MB, DEFAULT_IMPORT_MAX_MB)}
    return {
        vol.Optional(CONF_IMPORT_MAX_MB, description=shown): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=MAX_IMPORT_MAX_MB,
                step=1,
                unit_of_measurement="MB",
                mode=NumberSelectorMode.BOX,
            )
        ),
    }


def _tag_fields(values: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the tag fields, showing the current (or default) values."""

    def shown(key: str) -> dict[str, Any]:
        return {"suggested_value": values.get(key, _TAG_DEFAULTS[key])}

    return {
        vol.Optional(CONF_SAME_TAG_ACTION, description=shown(CONF_SAME_TAG_ACTION)): SelectSelector(
            SelectSelectorConfig(
                options=list(SAME_TAG_ACTIONS),
                translation_key=CONF_SAME_TAG_ACTION,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(
            CONF_UNKNOWN_TAG_NOTIFICATION, description=shown(CONF_UNKNOWN_TAG_NOTIFICATION)
        ): BooleanSelector(),
    }


def _slider(maximum: int, unit: str) -> NumberSelector:
    """Return a 0..maximum slider with whole steps."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0, max=maximum, step=1, unit_of_measurement=unit, mode=NumberSelectorMode.SLIDER
        )
    )
