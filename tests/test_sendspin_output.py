"""A box whose output is a Sendspin player (a host without libmpv): aiosendspin's own client."""
# ruff: noqa: F811  (the config_dir fixture of tests/helpers is imported, then requested by name)

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
from pathlib import Path
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigSubentry
from homeassistant.const import CONF_NAME, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import (
    CONF_CLIENT_ID,
    CONF_LIBRARY_PATH,
    CONF_OUTPUT,
    DOMAIN,
    OUTPUT_SENDSPIN,
    SUBENTRY_SENDSPIN_PLAYER,
)
from custom_components.open_music_box.sync.timeline import server_time

from .conftest import ENTITY_ID
from .helpers.config_flow import config_dir  # noqa: F401 (a fixture)
from .helpers.player import playlist_id
from .helpers.rooms import call, until
from .sendspin_player import (
    STEP_HZ,
    Chunk,
    SendspinTestPlayer,
    box_on_player,
    connect,
    dominant_hz,
    write_steps,
)

HIGH = (3000, 3000, 3000)


@pytest.fixture
def player() -> SendspinTestPlayer:
    return SendspinTestPlayer()


@pytest.fixture
async def sendspin_box(
    hass: HomeAssistant, tmp_path: Path, player: SendspinTestPlayer
) -> AsyncGenerator[MockConfigEntry]:
    library = tmp_path / "library"
    write_steps(library / "Steps" / "01 Steps.wav")
    write_steps(library / "Steps" / "02 High.wav", HIGH)
    async with box_on_player(hass, library, player) as entry:
        yield entry


def checked(
    chunks: list[Chunk], anchor: tuple[float, float], freqs: tuple[int, ...] = STEP_HZ
) -> int:
    """Assert each chunk holds the tone of where the output's timeline is at its time; count.

    `anchor` is the output's (server time, position): at that time the track is at that
    position, and a chunk stamped later is as far on in it.
    """
    count = 0
    for chunk in chunks:
        if chunk.at < anchor[0] - 1e-6:
            continue  # stamped before this start
        start = anchor[1] + chunk.at - anchor[0]
        end = start + len(chunk.pcm) / 4 / 48_000
        if int(start) != int(end - 1e-6) or int(start) >= len(freqs):
            continue  # across a step: no single tone
        assert abs(dominant_hz(chunk.pcm) - freqs[int(start)]) < 30, (start, chunk.at)
        count += 1
    return count


async def test_box_plays_on_a_sendspin_player(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """The queue on the player, on the server clock: play, seek, pause, play, next, advance."""
    entry = sendspin_box
    box = entry.runtime_data
    assert hass.states.get(ENTITY_ID).state == "unavailable"  # type: ignore[union-attr]
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: hass.states.get(ENTITY_ID).state != "unavailable")  # type: ignore[union-attr]

    await call(hass, "volume_set", {"volume_level": 0.3}, entity_id=ENTITY_ID)
    await until(lambda: player.volume == 30)
    await call(hass, "volume_mute", {"is_volume_muted": True}, entity_id=ENTITY_ID)
    await until(lambda: player.muted is True)
    await call(hass, "volume_mute", {"is_volume_muted": False}, entity_id=ENTITY_ID)

    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, 'Steps')}",
            "media_content_type": "music",
        },
        entity_id=ENTITY_ID,
    )
    output = box.player.output
    anchor = output.anchor
    assert anchor[1] == 0.0
    await until(lambda: checked(player.since(0), anchor) >= 10)
    # The box's position is the position of what the player is hearing now.
    await until(lambda: server_time() > anchor[0] + 0.5)
    assert box.player.current_position() == pytest.approx(server_time() - anchor[0], abs=0.15)

    starts, ends = len(player.starts), player.ends
    await call(hass, "media_seek", {"seek_position": 5.3}, entity_id=ENTITY_ID)
    anchor = output.anchor
    assert anchor[1] == 5.3
    await until(lambda: checked(player.since(starts), anchor) >= 10)
    assert (player.ends, player.clears) == (ends + 1, 0)  # a new stream, not a clear
    assert player.since(starts)[0].at >= anchor[0] - 0.01  # nothing left of the old stream
    await until(lambda: server_time() > anchor[0] + 0.5)
    assert box.player.current_position() == pytest.approx(5.3 + server_time() - anchor[0], abs=0.15)

    ends = player.ends
    await call(hass, "media_pause", entity_id=ENTITY_ID)
    await until(lambda: player.ends > ends)
    paused_at = output.position_now()
    assert box.player.position == pytest.approx(paused_at, abs=0.01)
    received = len(player.chunks)
    await asyncio.sleep(0.5)
    assert len(player.chunks) == received  # paused: nothing more is sent

    starts = len(player.starts)
    await call(hass, "media_play", entity_id=ENTITY_ID)
    anchor = output.anchor
    assert anchor[1] == pytest.approx(paused_at, abs=0.01)  # resumed where it paused
    await until(lambda: checked(player.since(starts), anchor) >= 5)

    starts = len(player.starts)
    await call(hass, "media_next_track", entity_id=ENTITY_ID)
    anchor = output.anchor
    assert anchor[1] == 0.0
    await until(lambda: checked(player.since(starts), anchor, HIGH) >= 5)
    assert hass.states.get(ENTITY_ID).attributes["media_title"] == "02 High"  # type: ignore[union-attr]


async def test_next_track_follows_on_the_same_timeline(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """The next track is sent right after the current one (gapless); the box moves on to it."""
    entry = sendspin_box
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: hass.states.get(ENTITY_ID).state != "unavailable")  # type: ignore[union-attr]
    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, 'Steps')}",
            "media_content_type": "music",
        },
        entity_id=ENTITY_ID,
    )
    await until(lambda: bool(player.chunks))
    starts = len(player.starts)
    await call(hass, "media_seek", {"seek_position": 8.5}, entity_id=ENTITY_ID)
    anchor = entry.runtime_data.player.output.anchor
    await until(
        lambda: hass.states.get(ENTITY_ID).attributes.get("media_title") == "02 High"  # type: ignore[union-attr]
    )
    # One stream: the end of the first track, then the second, back to back, each its own tone.
    stream = player.since(starts)
    assert len(player.starts) == starts + 1
    assert checked(stream, anchor, (*STEP_HZ, *HIGH)) >= 10
    # The box's position follows the second track from when its first sample is heard.
    assert entry.runtime_data.player.output.anchor == pytest.approx((anchor[0] + 1.5, 0.0))
    assert hass.states.get(ENTITY_ID).state == "playing"  # type: ignore[union-attr]
    # The queue ends with the second track: the box goes idle, the entry stays.
    await until(lambda: hass.states.get(ENTITY_ID).state == "idle", timeout=10)  # type: ignore[union-attr]


async def test_vanished_player_makes_the_box_unavailable(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
    *,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A player that goes makes the box unavailable (the entry stays); back, it plays again.

    Each change is logged once, at INFO.
    """
    entry = sendspin_box
    caplog.set_level(logging.INFO, logger="custom_components.open_music_box")
    await connect(hass_client, entry, player, hass_access_token)
    await until(lambda: hass.states.get(ENTITY_ID).state != "unavailable")  # type: ignore[union-attr]
    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, 'Steps')}",
            "media_content_type": "music",
        },
        entity_id=ENTITY_ID,
    )
    output = entry.runtime_data.player.output
    anchor = output.anchor
    await until(lambda: checked(player.chunks, anchor) >= 3)
    await until(lambda: server_time() > anchor[0] + 1.0)
    await player.disconnect()
    await until(lambda: hass.states.get(ENTITY_ID).state == "unavailable")  # type: ignore[union-attr]
    assert entry.state is ConfigEntryState.LOADED

    # Back: the track goes on from where the box's timeline is now, not from the start.
    returned = SendspinTestPlayer(identity=player.identity)
    try:
        await connect(hass_client, entry, returned, hass_access_token)
        await until(lambda: len(returned.chunks) >= 10)
        assert hass.states.get(ENTITY_ID).state == "playing"  # type: ignore[union-attr]
        anchor = output.anchor
        assert anchor[1] > 1.0  # where the box's timeline was when the player came back
        assert checked(returned.chunks, anchor) >= 5
    finally:
        await returned.disconnect()
    await until(lambda: hass.states.get(ENTITY_ID).state == "unavailable")  # type: ignore[union-attr]
    logged = [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name.startswith("custom_components.open_music_box") and r.levelno >= logging.INFO
    ]
    client = player.client_id
    assert logged == [
        (logging.INFO, f"Sendspin player {client} is connected"),
        (logging.INFO, f"Sendspin player {client} is gone"),
        (logging.INFO, f"Sendspin player {client} is connected"),
        (logging.INFO, f"Sendspin player {client} is gone"),
    ]


async def test_reconfigure_offers_the_boxs_sendspin_players(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """Reconfigure → Sendspin player: the box's players by name; the one chosen is stored."""
    entry = sendspin_box
    other = SendspinTestPlayer(name="Bedroom speaker")
    try:
        await connect(hass_client, entry, other, hass_access_token)
        await until(lambda: other.client_id in entry.runtime_data.sendspin.players())
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_LIBRARY_PATH: entry.data[CONF_LIBRARY_PATH], CONF_OUTPUT: OUTPUT_SENDSPIN},
        )
        assert result["step_id"] == "sendspin"
        selector = result["data_schema"].schema[CONF_CLIENT_ID]
        assert {o["label"] for o in selector.config["options"]} == {"Bedroom speaker"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CLIENT_ID: other.client_id}
        )
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data[CONF_CLIENT_ID] == other.client_id
        assert entry.state is ConfigEntryState.LOADED
        # The reloaded box plays on it (an inbound player reconnects by itself to do so).
        assert entry.runtime_data.player.output.client_id == other.client_id
    finally:
        await other.disconnect()


async def test_reconfigure_to_a_player_gone_meanwhile_asks_again(
    hass: HomeAssistant,
    hass_client: Any,
    hass_access_token: str,
    sendspin_box: MockConfigEntry,
    player: SendspinTestPlayer,
) -> None:
    """The player picked left while the form was open: the form comes back without it."""
    entry = sendspin_box
    other = SendspinTestPlayer(name="Bedroom speaker")
    try:
        await connect(hass_client, entry, player, hass_access_token)
        await connect(hass_client, entry, other, hass_access_token)
        players = entry.runtime_data.sendspin.players
        await until(lambda: {player.client_id, other.client_id} <= set(players()))
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_LIBRARY_PATH: entry.data[CONF_LIBRARY_PATH], CONF_OUTPUT: OUTPUT_SENDSPIN},
        )
        assert result["step_id"] == "sendspin"
        await other.disconnect()
        await until(lambda: other.client_id not in players())
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CLIENT_ID: other.client_id}
        )
        assert result["step_id"] == "sendspin"
        options = result["data_schema"].schema[CONF_CLIENT_ID].config["options"]
        assert [o["value"] for o in options] == [player.client_id]
    finally:
        await other.disconnect()


async def test_new_box_plays_on_the_first_player_added(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A box set up with a Sendspin output has no player yet: it takes the first one added."""
    (config_dir / "media" / "kids").mkdir(parents=True)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Radio", CONF_LIBRARY_PATH: "media/kids", CONF_OUTPUT: OUTPUT_SENDSPIN},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_LIBRARY_PATH: str((config_dir / "media" / "kids").resolve()),
        CONF_OUTPUT: OUTPUT_SENDSPIN,
    }
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(result["result"].entry_id)
    assert entry is not None
    assert entry.state is ConfigEntryState.LOADED
    output = entry.runtime_data.player.output
    assert output.client_id is None
    assert hass.states.get("media_player.radio").state == "unavailable"  # type: ignore[union-attr]

    speaker = SendspinTestPlayer(name="Kitchen speaker")
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(
                {CONF_CLIENT_ID: speaker.client_id, CONF_URL: "ws://127.0.0.1:9/sendspin"}
            ),
            subentry_type=SUBENTRY_SENDSPIN_PLAYER,
            title="Kitchen speaker",
            unique_id=speaker.client_id,
        ),
    )
    await hass.async_block_till_done()
    assert output.client_id == speaker.client_id
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)
