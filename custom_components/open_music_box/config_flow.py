"""Config, options and reconfigure flows for Open Music Box."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.components.media_player.const import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .const import (
    AUDIO_DEVICE_AUTO,
    CONF_AUDIO_DEVICE,
    CONF_CLIENT_ID,
    CONF_LIBRARY_PATH,
    CONF_OUTPUT,
    CONF_TARGET_ENTITY,
    DEFAULT_LIBRARY_SUBDIR,
    DEFAULT_NAME,
    DOMAIN,
    OUTPUT_ENTITY,
    OUTPUT_MPV,
    OUTPUT_SENDSPIN,
    SUBENTRY_ROOM,
    SUBENTRY_SENDSPIN_PLAYER,
)
from .devices import own_media_players
from .options_flow import DEFAULT_OPTIONS, OpenMusicBoxOptionsFlow
from .playback import mpv_loader
from .room_flow import RoomSubentryFlow
from .sendspin.discovery_flow import SendspinDiscoveryFlow
from .sendspin.player_flow import SendspinPlayerFlow

if TYPE_CHECKING:
    from .box import OpenMusicBoxConfigEntry

# mpv names its automatic device "auto"; this label is only used if mpv gives none.
_AUTO_LABEL = "Autoselect device"


class LibraryFolderError(Exception):
    """The library folder is not usable; the message is a flow error key."""


def _inside(path: str, root: str) -> bool:
    """Return True when `path` is `root` or below it (both normalised)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_library_folder(hass: HomeAssistant, raw: str) -> str:
    """Validate the typed folder and return its resolved absolute path. Blocking: executor.

    Relative paths are relative to the config dir. A folder under a media folder (the config
    dir's `media`, ours, or one of `media_dirs`) is created when absent, as a media folder is
    where music goes. Folders under the config dir's `media` need no allowlist entry (a user who
    changed media_dirs would otherwise be refused the folder we proposed). Any other folder
    must be allowed by `allowlist_external_dirs`/`media_dirs`.
    """
    own_media = os.path.normpath(hass.config.path(os.path.dirname(DEFAULT_LIBRARY_SUBDIR)))
    candidate = os.path.normpath(hass.config.path(raw.strip()))
    media_roots = [own_media, *(os.path.normpath(d) for d in hass.config.media_dirs.values())]
    ours = _inside(candidate, own_media) and candidate != own_media
    # Checked first so that nothing is revealed about folders outside the allowlist.
    if not ours and not hass.config.is_allowed_path(str(Path(candidate).resolve())):
        raise LibraryFolderError("folder_not_allowed")
    if any(_inside(candidate, root) and candidate != root for root in media_roots):
        try:
            Path(candidate).mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            pass  # a file of that name: "not a directory" below
        except OSError as err:
            raise LibraryFolderError("folder_create_failed") from err
    path = Path(candidate).resolve()
    if ours and not _inside(str(path), str(Path(own_media).resolve())):
        raise LibraryFolderError("folder_not_allowed")  # a link out of the media folder
    if not path.exists():
        raise LibraryFolderError("folder_missing")
    if not path.is_dir():
        raise LibraryFolderError("folder_not_directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise LibraryFolderError("folder_not_readable")
    return str(path)


def free_default_folder(hass: HomeAssistant, used: set[str]) -> str:
    """Return the first default folder no box uses (media/open_music_box, then _2...). Blocking."""
    base = hass.config.path(DEFAULT_LIBRARY_SUBDIR)
    for index in range(1, 100):
        folder = base if index == 1 else f"{base}_{index}"
        if os.path.realpath(folder) not in used:
            return folder
    return base


def _output_selector(libmpv_missing: bool) -> SelectSelector:
    """Offer mpv only where libmpv loads."""
    options = [OUTPUT_ENTITY, OUTPUT_SENDSPIN]
    if not libmpv_missing:
        options.insert(0, OUTPUT_MPV)
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=CONF_OUTPUT, mode=SelectSelectorMode.LIST
        )
    )


class OpenMusicBoxConfigFlow(SendspinDiscoveryFlow, domain=DOMAIN):
    """Set up a music box: library folder, then its audio output."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Initialize the open music box config flow."""
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
        """Return the subentry flows of a box: its sync rooms and its Sendspin players."""
        return {SUBENTRY_ROOM: RoomSubentryFlow, SUBENTRY_SENDSPIN_PLAYER: SendspinPlayerFlow}

    async def _async_folder(self, user_input: dict[str, Any], errors: dict[str, str]) -> str | None:
        """Check the folder in the executor; on failure, put the error key in `errors`."""
        try:
            path: str = await self.hass.async_add_executor_job(
                resolve_library_folder, self.hass, user_input[CONF_LIBRARY_PATH]
            )
        except LibraryFolderError as err:
            errors[CONF_LIBRARY_PATH] = str(err)
            return None
        if path in self._used_folders():
            # An error on the field, not an abort: the user picks another folder.
            errors[CONF_LIBRARY_PATH] = "folder_in_use"
            return None
        return path

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the name, the library folder and the kind of output."""
        await self._async_probe_mpv()
        errors = self._base_errors()
        if (
            user_input is not None
            and (path := await self._async_folder(user_input, errors))
            and self._output_ok(user_input, errors)
        ):
            await self.async_set_unique_id(path)
            self._abort_if_unique_id_configured()
            self._name = user_input[CONF_NAME].strip() or DEFAULT_NAME
            self._library_path = path
            return await self._async_step_output(user_input[CONF_OUTPUT])

        values = user_input or {
            CONF_NAME: DEFAULT_NAME,
            # A second box gets a folder of its own (media/open_music_box_2...).
            CONF_LIBRARY_PATH: await self.hass.async_add_executor_job(
                free_default_folder, self.hass, self._used_folders()
            ),
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
        if (
            user_input is not None
            and (path := await self._async_folder(user_input, errors))
            and self._output_ok(user_input, errors)
        ):
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

        current = self._current_data().get(CONF_AUDIO_DEVICE)
        # By description, the automatic device first, without ALSA's plugins.
        devices = {AUDIO_DEVICE_AUTO: _AUTO_LABEL} | mpv_loader.device_labels(
            self._audio_devices or {}, keep=[current] if current else []
        )
        options = [SelectOptionDict(value=name, label=label) for name, label in devices.items()]
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
        own_entities = own_media_players(registry)
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

    def _output_ok(self, user_input: dict[str, Any], errors: dict[str, str]) -> bool:
        """Refuse "another media player" when Home Assistant has none but music boxes."""
        if user_input[CONF_OUTPUT] != OUTPUT_ENTITY:
            return True
        registry = er.async_get(self.hass)
        players = {state.entity_id for state in self.hass.states.async_all(MEDIA_PLAYER_DOMAIN)}
        players.update(
            e.entity_id for e in registry.entities.values() if e.domain == MEDIA_PLAYER_DOMAIN
        )
        for entity_id in players:
            entity = registry.async_get(entity_id)
            if entity is None or entity.platform != DOMAIN:
                return True
        errors[CONF_OUTPUT] = "no_media_players"
        return False

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
        if output == OUTPUT_SENDSPIN:
            return await self.async_step_sendspin()
        return await self.async_step_entity()

    async def async_step_sendspin(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the box's Sendspin players; a new box plays on the first one added."""
        players = self._sendspin_players()
        if not players:
            return self._async_finish({})
        if user_input is not None:
            if user_input[CONF_CLIENT_ID] in players:
                return self._async_finish({CONF_CLIENT_ID: user_input[CONF_CLIENT_ID]})
        current = self._current_data().get(CONF_CLIENT_ID)
        options = [SelectOptionDict(value=key, label=name) for key, name in players.items()]
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_CLIENT_ID, default=current if current in players else options[0]["value"]
                ): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
                )
            }
        )
        return self.async_show_form(step_id="sendspin", data_schema=schema)

    @callback
    def _sendspin_players(self) -> dict[str, str]:
        """Return the Sendspin players of the box being reconfigured (a new box has none)."""
        if self.source != SOURCE_RECONFIGURE:
            return {}
        entry = self._get_reconfigure_entry()
        if (box := getattr(entry, "runtime_data", None)) is None:
            return {}
        players: dict[str, str] = box.sendspin.players()
        return players

    @callback
    def _used_folders(self) -> set[str]:
        """Return the folders of the other music boxes (their unique ids are resolved paths)."""
        own = self._reconfigure_entry_id if self.source == SOURCE_RECONFIGURE else None
        return {
            entry.unique_id
            for entry in self._async_current_entries(include_ignore=False)
            if entry.entry_id != own and entry.unique_id
        }

    @callback
    def _async_finish(self, output_data: dict[str, str]) -> ConfigFlowResult:
        """Create the entry, or update and reload the one being reconfigured."""
        data = {CONF_LIBRARY_PATH: self._library_path, CONF_OUTPUT: self._output, **output_data}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), unique_id=self._library_path, data=data
            )
        return self.async_create_entry(title=self._name, data=data, options=DEFAULT_OPTIONS)
