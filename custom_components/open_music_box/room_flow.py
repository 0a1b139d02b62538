"""Config subentry flow of a sync room: name, who controls it, its members and their offsets."""

from __future__ import annotations

import math
from typing import Any

from homeassistant.components.media_player.const import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
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

from .api.validation import clean_name
from .catalog import MAX_NAME_LENGTH
from .const import (
    CONF_AUDIO_DEVICE,
    CONF_CLIENT_ID,
    CONF_ENTITY_ID,
    CONF_OFFSET_MS,
    CONF_ROOM_CONTROL,
    CONF_ROOM_CONTROL_USERS,
    CONF_ROOM_ENTITY_MEMBERS,
    CONF_ROOM_LOCAL_DEVICES,
    CONF_ROOM_SATELLITE_OFFSETS,
    CONF_ROOM_SENDSPIN_PLAYERS,
    MAX_OFFSET_MS,
    MAX_ROOM_MEMBERS,
    ROOM_CONTROL_EVERYONE,
    ROOM_CONTROL_MODES,
    ROOM_CONTROL_USERS,
    SUBENTRY_ROOM,
)
from .devices import check_entity_member, own_media_players
from .playback import mpv_loader
from .storage import async_flush_config_entries

MAX_ROOM_NAME = MAX_NAME_LENGTH  # the rule of every name: 1-100 characters, trimmed
# A name, not a literal: tests/test_translations.py reads literal translation keys as exceptions.
_CONTROL_SELECTOR = "room_control"


class RoomSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a sync room of a music box."""

    def __init__(self) -> None:
        """Initialize the room subentry flow."""
        super().__init__()
        self._name = ""
        self._control = ROOM_CONTROL_EVERYONE
        self._control_users: list[str] = []
        self._local_devices: list[str] = []
        self._entity_members: list[str] = []
        self._sendspin_players: list[str] = []
        self._probe = mpv_loader.AudioDeviceProbe()
        # None once probed means libmpv is missing: no local device is offered then.
        self._audio_devices: dict[str, str] | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a room."""
        return await self._async_step_room("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a room: the same form, filled with its current settings."""
        return await self._async_step_room("reconfigure", user_input)

    async def async_step_offsets(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask the latency offset of each local device and media player of the room.

        Each field is named by what the user picked (a device's description, a player's name):
        a form field's label is its key when no translation exists for it.
        """
        fields = self._member_labels()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = {
                label: "offset_invalid" for label in fields if not math.isfinite(user_input[label])
            }
            if not errors:
                return await self._async_finish(
                    {member: float(user_input[label]) for label, member in fields.items()}
                )

        current = self._current_offsets()
        values = {label: current.get(member, 0) for label, member in fields.items()}
        values |= user_input or {}
        schema = vol.Schema(
            {vol.Required(label, default=values[label]): _offset_selector() for label in fields}
        )
        return self.async_show_form(step_id="offsets", data_schema=schema, errors=errors)

    def _member_labels(self) -> dict[str, str]:
        """Return {label: member} for the room's local devices and media players."""
        devices = mpv_loader.device_labels(self._audio_devices or {}, keep=self._local_devices)
        registry = er.async_get(self.hass)
        named = [(devices.get(name, name), name) for name in self._local_devices]
        for entity_id in self._entity_members:
            if (state := self.hass.states.get(entity_id)) is not None:
                label = state.name
            elif (entity := registry.async_get(entity_id)) is not None:
                label = entity.name or entity.original_name or entity_id
            else:
                label = entity_id
            named.append((label, entity_id))
        players = self._get_entry_players()
        named += [(players.get(cid, cid), cid) for cid in self._sendspin_players]
        labels: dict[str, str] = {}
        for label, member in named:
            # Two members of the same name are told apart by their id.
            labels[f"{label} ({member})" if label in labels else label] = member
        return labels

    async def _async_step_room(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """Show and check the room form; go on to the offsets when the room has members."""
        await self._async_probe_mpv()
        registry = er.async_get(self.hass)
        own_entities = own_media_players(registry)
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._check(user_input, registry, own_entities)
            if not errors:
                if self._local_devices or self._entity_members or self._sendspin_players:
                    return await self.async_step_offsets()
                return await self._async_finish({})

        current = self._current_settings()
        values = current | (user_input or {})
        users = await self._async_user_options()
        user_ids = {option["value"] for option in users}
        fields: dict[vol.Marker, Any] = {
            vol.Required(CONF_NAME, default=values[CONF_NAME]): TextSelector(),
            vol.Required(CONF_ROOM_CONTROL, default=values[CONF_ROOM_CONTROL]): SelectSelector(
                SelectSelectorConfig(
                    options=list(ROOM_CONTROL_MODES),
                    translation_key=_CONTROL_SELECTOR,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            # Optional with a suggested value: clearing the list in the UI must give an empty list.
            vol.Optional(
                CONF_ROOM_CONTROL_USERS,
                default=[],
                description={
                    "suggested_value": [u for u in values[CONF_ROOM_CONTROL_USERS] if u in user_ids]
                },
            ): _multi_select(users),
        }
        if devices := self._device_options(current[CONF_ROOM_LOCAL_DEVICES]):
            fields[
                vol.Optional(
                    CONF_ROOM_LOCAL_DEVICES,
                    default=[],
                    description={"suggested_value": values[CONF_ROOM_LOCAL_DEVICES]},
                )
            ] = _multi_select(devices)
        fields[
            vol.Optional(
                CONF_ROOM_ENTITY_MEMBERS,
                default=[],
                description={"suggested_value": values[CONF_ROOM_ENTITY_MEMBERS]},
            )
        ] = EntitySelector(
            EntitySelectorConfig(
                domain=MEDIA_PLAYER_DOMAIN, multiple=True, exclude_entities=own_entities
            )
        )
        if players := self._sendspin_options(current[CONF_ROOM_SENDSPIN_PLAYERS]):
            fields[
                vol.Optional(
                    CONF_ROOM_SENDSPIN_PLAYERS,
                    default=[],
                    description={"suggested_value": values[CONF_ROOM_SENDSPIN_PLAYERS]},
                )
            ] = _multi_select(players)
        return self.async_show_form(step_id=step_id, data_schema=vol.Schema(fields), errors=errors)

    def _sendspin_options(self, current: list[str]) -> list[SelectOptionDict]:
        """Sendspin players the box's server knows, and the room's own (even when away)."""
        known = self._get_entry_players()
        ids = list(dict.fromkeys([*known, *current]))
        return [SelectOptionDict(value=cid, label=known.get(cid, cid)) for cid in ids]

    def _check(
        self, user_input: dict[str, Any], registry: er.EntityRegistry, own_entities: list[str]
    ) -> dict[str, str]:
        """Keep the room form's answers; return the errors found in them."""
        errors: dict[str, str] = {}
        name = clean_name(user_input[CONF_NAME], MAX_ROOM_NAME)
        self._name = name or str(user_input[CONF_NAME]).strip()
        self._control = user_input[CONF_ROOM_CONTROL]
        self._control_users = list(dict.fromkeys(user_input.get(CONF_ROOM_CONTROL_USERS, [])))
        self._local_devices = list(dict.fromkeys(user_input.get(CONF_ROOM_LOCAL_DEVICES, [])))
        if name is None:  # empty, too long, or with control characters
            errors[CONF_NAME] = "room_name_invalid"
        elif self._name_taken(self._name):
            errors[CONF_NAME] = "room_name_taken"
        if self._control == ROOM_CONTROL_USERS and not self._control_users:
            errors[CONF_ROOM_CONTROL_USERS] = "control_users_required"

        kept = self._current_settings()[CONF_ROOM_ENTITY_MEMBERS]
        members: list[str] = []
        for raw in user_input.get(CONF_ROOM_ENTITY_MEMBERS, []):
            entity_id, problem = check_entity_member(self.hass, registry, raw, own_entities, kept)
            if problem is not None:
                errors[CONF_ROOM_ENTITY_MEMBERS] = problem
            elif entity_id not in members:
                members.append(entity_id)
        self._entity_members = members
        kept_players = self._players()
        allowed = {option["value"] for option in self._sendspin_options(kept_players)}
        self._sendspin_players = [
            cid
            for cid in dict.fromkeys(user_input.get(CONF_ROOM_SENDSPIN_PLAYERS, []))
            if cid in allowed or cid in kept_players
        ]
        total = len(self._local_devices) + len(members) + len(self._sendspin_players)
        if total > MAX_ROOM_MEMBERS:
            errors["base"] = "room_too_many_members"
        return errors

    def _get_entry_players(self) -> dict[str, str]:
        box = getattr(self._get_entry(), "runtime_data", None)  # None while the box is not loaded
        return box.sendspin.players() if box is not None else {}

    def _players(self) -> list[str]:
        return list(self._current_settings()[CONF_ROOM_SENDSPIN_PLAYERS])

    def _name_taken(self, name: str) -> bool:
        """Return True when another room of this box already has this name (any case)."""
        own_id = self._reconfigure_subentry_id if self.source == SOURCE_RECONFIGURE else None
        return any(
            subentry.subentry_type == SUBENTRY_ROOM
            and subentry.subentry_id != own_id
            and subentry.title.strip().casefold() == name.casefold()
            for subentry in self._get_entry().subentries.values()
        )

    def _current_settings(self) -> dict[str, Any]:
        """Return the form values of the room being reconfigured, or of a new room."""
        if self.source != SOURCE_RECONFIGURE:
            return {
                CONF_NAME: "",
                CONF_ROOM_CONTROL: ROOM_CONTROL_EVERYONE,
                CONF_ROOM_CONTROL_USERS: [],
                CONF_ROOM_LOCAL_DEVICES: [],
                CONF_ROOM_ENTITY_MEMBERS: [],
                CONF_ROOM_SENDSPIN_PLAYERS: [],
            }
        subentry = self._get_reconfigure_subentry()
        data = subentry.data
        return {
            CONF_NAME: subentry.title,
            CONF_ROOM_CONTROL: data.get(CONF_ROOM_CONTROL, ROOM_CONTROL_EVERYONE),
            CONF_ROOM_CONTROL_USERS: list(data.get(CONF_ROOM_CONTROL_USERS, [])),
            CONF_ROOM_LOCAL_DEVICES: [
                member[CONF_AUDIO_DEVICE] for member in data.get(CONF_ROOM_LOCAL_DEVICES, [])
            ],
            CONF_ROOM_ENTITY_MEMBERS: [
                member[CONF_ENTITY_ID] for member in data.get(CONF_ROOM_ENTITY_MEMBERS, [])
            ],
            CONF_ROOM_SENDSPIN_PLAYERS: [
                member[CONF_CLIENT_ID] for member in data.get(CONF_ROOM_SENDSPIN_PLAYERS, [])
            ],
        }

    def _current_offsets(self) -> dict[str, float]:
        """Return the offsets of the room being reconfigured by device name and entity id."""
        if self.source != SOURCE_RECONFIGURE:
            return {}
        data = self._get_reconfigure_subentry().data
        offsets = {
            member[CONF_AUDIO_DEVICE]: member[CONF_OFFSET_MS]
            for member in data.get(CONF_ROOM_LOCAL_DEVICES, [])
        }
        offsets.update(
            (member[CONF_ENTITY_ID], member[CONF_OFFSET_MS])
            for member in data.get(CONF_ROOM_ENTITY_MEMBERS, [])
        )
        offsets.update(self._player_offsets())
        return offsets

    async def _async_finish(self, offsets: dict[str, float]) -> SubentryFlowResult:
        """Create the room, or update the one being reconfigured (applied without a reload)."""
        data = {
            CONF_ROOM_CONTROL: self._control,
            CONF_ROOM_CONTROL_USERS: self._control_users,
            CONF_ROOM_LOCAL_DEVICES: [
                {CONF_AUDIO_DEVICE: name, CONF_OFFSET_MS: offsets[name]}
                for name in self._local_devices
            ],
            CONF_ROOM_ENTITY_MEMBERS: [
                {CONF_ENTITY_ID: entity_id, CONF_OFFSET_MS: offsets[entity_id]}
                for entity_id in self._entity_members
            ],
        }
        if self._sendspin_players:
            data[CONF_ROOM_SENDSPIN_PLAYERS] = [
                {CONF_CLIENT_ID: cid, CONF_OFFSET_MS: offsets[cid]}
                for cid in self._sendspin_players
            ]
        if self.source == SOURCE_RECONFIGURE:
            # Satellites' offsets set from the panel are not on the form: they stay.
            kept = self._get_reconfigure_subentry().data.get(CONF_ROOM_SATELLITE_OFFSETS)
            if kept:
                data[CONF_ROOM_SATELLITE_OFFSETS] = kept
            result = self.async_update_and_abort(
                self._get_entry(), self._get_reconfigure_subentry(), title=self._name, data=data
            )
            await async_flush_config_entries(self.hass)  # acknowledged means durable
            return result
        # A new room is added by HA after this step; the update listener writes it at once.
        return self.async_create_entry(title=self._name, data=data)

    def _player_offsets(self) -> dict[str, float]:
        if self.source != SOURCE_RECONFIGURE:
            return {}
        data = self._get_reconfigure_subentry().data
        return {
            member[CONF_CLIENT_ID]: member[CONF_OFFSET_MS]
            for member in data.get(CONF_ROOM_SENDSPIN_PLAYERS, [])
        }

    async def _async_probe_mpv(self) -> None:
        """List mpv's audio devices once per flow (blocking: in the executor)."""
        self._audio_devices = await self._probe.async_probe(self.hass)

    def _device_options(self, current: list[str]) -> list[SelectOptionDict]:
        """Offer mpv's devices by description, and the room's own ones mpv no longer lists."""
        devices = mpv_loader.device_labels(self._audio_devices or {}, keep=current)
        for name in current:
            devices.setdefault(name, name)
        return [SelectOptionDict(value=name, label=label) for name, label in devices.items()]

    async def _async_user_options(self) -> list[SelectOptionDict]:
        """Offer the people who log in: active users that Home Assistant did not create."""
        return [
            SelectOptionDict(value=user.id, label=user.name or user.id)
            for user in await self.hass.auth.async_get_users()
            if user.is_active and not user.system_generated
        ]


def _multi_select(options: list[SelectOptionDict]) -> SelectSelector:
    """Return a drop-down that picks several of the options."""
    return SelectSelector(
        SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.DROPDOWN)
    )


def _offset_selector() -> NumberSelector:
    """Return the field of one member's latency offset in ms."""
    return NumberSelector(
        NumberSelectorConfig(
            min=-MAX_OFFSET_MS,
            max=MAX_OFFSET_MS,
            step=1,
            unit_of_measurement="ms",
            mode=NumberSelectorMode.BOX,
        )
    )
