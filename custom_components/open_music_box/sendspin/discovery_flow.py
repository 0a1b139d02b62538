"""Sendspin players found by Home Assistant's zeroconf (`_sendspin._tcp`): pair one with a box.

Home Assistant shows "New device found: Kitchen speaker (Sendspin)"; the user picks the box (when
there are several) and types the code the player shows. The player becomes a Sendspin player
subentry of that box, as if it had been added by URL, and the flow ends without a new entry.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
)
from homeassistant.const import CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from ..const import CONF_CLIENT_ID, DOMAIN, SUBENTRY_SENDSPIN_PLAYER
from .pairing import PairingResult, PairingSession, PlayerUnreachable
from .player_flow import CONF_CODE

CONF_BOX = "box"
DEFAULT_PATH = "/sendspin"  # the spec's path when the player advertises none


def discovered_url(info: ZeroconfServiceInfo) -> str:
    """Return the player's WebSocket URL from its advertisement."""
    path = str(info.properties.get("path") or DEFAULT_PATH)
    host = f"[{info.host}]" if ":" in info.host else info.host
    return f"ws://{host}:{info.port}{path if path.startswith('/') else '/' + path}"


class SendspinDiscoveryFlow(ConfigFlow):
    """The box config flow's steps for a discovered Sendspin player."""

    _player_url: str = ""
    _player_name: str = ""
    _pairing: PairingSession | None = None

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Offer a player that advertises itself, unless a box already has it."""
        url = discovered_url(discovery_info)
        name = str(discovery_info.properties.get("name") or discovery_info.name.split(".")[0])
        await self.async_set_unique_id(f"sendspin:{url}")
        self._abort_if_unique_id_configured()
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            for subentry in entry.subentries.values():
                if subentry.data.get(CONF_URL) == url:
                    return self.async_abort(reason="already_configured_player")
        self._player_url, self._player_name = url, name
        self.context["title_placeholders"] = {"name": f"{name} (Sendspin)"}
        return await self.async_step_zeroconf_confirm()

    def _boxes(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(value=entry.entry_id, label=entry.title)
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        ]

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the box the player joins, then dial it."""
        if not (boxes := self._boxes()):
            return self.async_abort(reason="no_box")
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self.hass.config_entries.async_get_entry(user_input[CONF_BOX])
            if entry is None or entry.state is not ConfigEntryState.LOADED:
                return self.async_abort(reason="no_box")
            session = PairingSession(entry.runtime_data.sendspin, self._player_url)
            try:
                await session.async_connect()
            except PlayerUnreachable:
                errors["base"] = "player_unreachable"
            else:
                self._pairing = session
                session.start()
                return await self.async_step_pair()
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_BOX, default=boxes[0]["value"]): SelectSelector(
                        SelectSelectorConfig(options=boxes)
                    )
                }
            ),
            description_placeholders={"name": self._player_name},
            errors=errors,
        )

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask the code the player shows; add the paired player to the box."""
        session = self._pairing
        assert session is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await session.async_submit(str(user_input[CONF_CODE]))
            if result is PairingResult.PAIRED:
                entry = session.hub.entry
                self.hass.config_entries.async_add_subentry(
                    entry,
                    ConfigSubentry(
                        data=MappingProxyType(
                            {CONF_CLIENT_ID: session.client_id, CONF_URL: session.url}
                        ),
                        subentry_type=SUBENTRY_SENDSPIN_PLAYER,
                        title=session.name or self._player_name,
                        unique_id=session.client_id,
                    ),
                )
                return self.async_abort(
                    reason="player_added",
                    description_placeholders={"name": self._player_name, "box": entry.title},
                )
            errors["base"] = (
                "pairing_code_wrong" if result is PairingResult.WRONG else "pairing_failed"
            )
        return self.async_show_form(
            step_id="pair",
            data_schema=vol.Schema({vol.Required(CONF_CODE): TextSelector()}),
            description_placeholders={"name": session.name or self._player_name},
            errors=errors,
        )

    @callback
    def async_remove(self) -> None:
        """Stop a pairing left half-way."""
        if self._pairing is not None:
            self._pairing.cancel()
