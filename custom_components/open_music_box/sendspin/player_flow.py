"""Config subentry flow of a box: add a Sendspin player by its URL and pair it with a code."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
import voluptuous as vol

from ..const import CONF_CLIENT_ID
from .pairing import PairingResult, PairingSession, PlayerUnreachable

CONF_CODE = "code"
URL_SCHEMA = vol.Schema(
    {vol.Required(CONF_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL))}
)


def player_url(value: str) -> str | None:
    """Return a player's WebSocket URL (ws:// or wss://, a host), None when it is not one."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("ws", "wss") or not parts.hostname or len(text) > 2000:
        return None
    return text


class SendspinPlayerFlow(ConfigSubentryFlow):
    """Add a Sendspin player to a box: its URL, then the pairing code it shows."""

    def __init__(self) -> None:
        """Initialize the Sendspin player flow."""
        super().__init__()
        self._session: PairingSession | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask the player's URL and dial it."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="box_not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            if (url := player_url(user_input[CONF_URL])) is None:
                errors[CONF_URL] = "url_invalid"
            else:
                return await self.async_pair_url(url, errors)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_URL): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.URL)
                        )
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_pair_url(self, url: str, errors: dict[str, str]) -> SubentryFlowResult:
        """Dial the player at `url` and start pairing (also used by discovery)."""
        session = PairingSession(self._get_entry().runtime_data.sendspin, url)
        try:
            await session.async_connect()
        except PlayerUnreachable:
            errors[CONF_URL] = "player_unreachable"
            return self.async_show_form(
                step_id="user",
                data_schema=self.add_suggested_values_to_schema(URL_SCHEMA, {CONF_URL: url}),
                errors=errors,
            )
        for subentry in self._get_entry().subentries.values():
            if subentry.unique_id == session.client_id:
                return self.async_abort(reason="already_configured")
        self._session = session
        session.start()
        return await self.async_step_pair()

    async def async_step_pair(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask the code the player shows; the player answers whether it matches."""
        session = self._session
        assert session is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await session.async_submit(str(user_input[CONF_CODE]))
            if result is PairingResult.PAIRED:
                return self.async_create_entry(
                    title=session.name or session.url,
                    data={CONF_CLIENT_ID: session.client_id, CONF_URL: session.url},
                    unique_id=session.client_id,
                )
            errors["base"] = (
                "pairing_code_wrong" if result is PairingResult.WRONG else "pairing_failed"
            )
        return self.async_show_form(
            step_id="pair",
            data_schema=vol.Schema({vol.Required(CONF_CODE): TextSelector()}),
            description_placeholders={"name": session.name or session.url},
            errors=errors,
        )

    @callback
    def async_remove(self) -> None:
        """Stop a pairing left half-way."""
        if self._session is not None:
            self._session.cancel()
