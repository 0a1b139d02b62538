"""Assist: "set the volume to 90" on a box capped at 40 % answers with the cap, not "Volume set".

Home Assistant's HassSetVolume handler (media_player) calls `volume_set` and answers with a fixed
sentence; a service cannot change that answer. This platform wraps that handler: after the call
it looks at our players' `volume_limited` attribute and, when the cap applied, says so.
"""

from __future__ import annotations

import asyncio

from homeassistant.components.media_player.const import INTENT_SET_VOLUME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, intent

from .const import DOMAIN
from .notices import ATTR_VOLUME_LIMITED, VOLUME_LIMITED_SPEECH_KEY, async_translate, percent

# media_player's intent platform may still be importing when ours runs: wait for it a while.
WRAP_RETRY_SECONDS = 0.1
WRAP_ATTEMPTS = 300


class CappedSetVolumeHandler(intent.ServiceIntentHandler):
    """HassSetVolume, same matching and call, with an answer that tells about the cap."""

    def __init__(self, original: intent.ServiceIntentHandler) -> None:
        # Same slots, constraints and description as the handler it stands in for.
        """Initialize the capped set volume handler."""
        self.__dict__.update(original.__dict__)

    async def async_handle_states(
        self,
        intent_obj: intent.Intent,
        match_result: intent.MatchTargetsResult,
        match_constraints: intent.MatchTargetsConstraints,
        match_preferences: intent.MatchTargetsPreferences | None = None,
    ) -> intent.IntentResponse:
        """Set the volume, then name the maximum of a box that limited it."""
        response = await super().async_handle_states(
            intent_obj, match_result, match_constraints, match_preferences
        )
        hass = intent_obj.hass
        registry = er.async_get(hass)
        for matched in match_result.states:
            entry = registry.async_get(matched.entity_id)
            state = hass.states.get(matched.entity_id)
            if entry is None or entry.platform != DOMAIN or state is None:
                continue
            if state.attributes.get(ATTR_VOLUME_LIMITED):
                speech = await async_translate(
                    hass,
                    VOLUME_LIMITED_SPEECH_KEY,
                    intent_obj.language,
                    name=state.name,
                    max_volume=percent(state.attributes.get("volume_level", 0)),
                )
                response.async_set_speech(speech)
                break
        return response


def _wrap(hass: HomeAssistant) -> bool:
    """Stand in for media_player's HassSetVolume handler; return False while it is missing."""
    current = next((h for h in intent.async_get(hass) if h.intent_type == INTENT_SET_VOLUME), None)
    if isinstance(current, CappedSetVolumeHandler):
        return True
    if not isinstance(current, intent.ServiceIntentHandler):
        return False
    intent.async_remove(hass, INTENT_SET_VOLUME)
    intent.async_register(hass, CappedSetVolumeHandler(current))
    return True


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Wrap HassSetVolume; media_player's intents register in the same pass, maybe after ours."""
    if _wrap(hass):
        return

    async def wait_and_wrap() -> None:
        for _ in range(WRAP_ATTEMPTS):
            await asyncio.sleep(WRAP_RETRY_SECONDS)
            if _wrap(hass):
                return

    hass.async_create_background_task(wait_and_wrap(), f"{DOMAIN} volume intent")
