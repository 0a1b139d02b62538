"""A Sendspin player for the tests: aiosendspin's own client, recording what it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import math
from pathlib import Path
import socket
from typing import Any
import wave

from aiohttp import ClientSession
from aiosendspin.client import ClientListener, PairingSupport, SendspinClient
from aiosendspin.client.models import AudioFormat
from aiosendspin.models.artwork import ArtworkChannel
from aiosendspin.models.core import ServerCommandPayload, ServerStatePayload
from aiosendspin.models.metadata import SessionUpdateMetadata
from aiosendspin.models.player import ClientHelloPlayerSupport, SupportedAudioFormat
from aiosendspin.models.types import AudioCodec, PlayerCommand, Roles
from aiosendspin.noise import Identity, InMemoryClientPairingStore
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import numpy as np
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.open_music_box.const import CONF_CLIENT_ID, CONF_OUTPUT, OUTPUT_SENDSPIN

from .conftest import box_entry
from .helpers.player import playlist_id
from .helpers.rooms import call

RATE = 48_000
STEP_HZ = (300, 500, 700, 900, 1100, 1300, 1500, 1700, 1900, 2100)  # one per second


def write_steps(path: Path, freqs: tuple[int, ...] = STEP_HZ) -> Path:
    """A 48 kHz mono WAV, one second per frequency: its content tells where in it a chunk is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(RATE) / RATE
    samples = np.concatenate([np.sin(2 * math.pi * f * t) for f in freqs]) * 0.5 * 32767
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


async def listen_url(ws: Any, hass_client: Any, entry: MockConfigEntry) -> str:
    """The box's signed Sendspin URL (`sendspin/listen_url`, message id 1), as ws://."""
    await ws.send_json(
        {"id": 1, "type": "open_music_box/sendspin/listen_url", "config_entry_id": entry.entry_id}
    )
    path = (await ws.receive_json())["result"]["path"]
    client = await hass_client()
    return str(client.make_url("/")).rstrip("/").replace("http://", "ws://") + path


async def play_steps(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Play the "Steps" playlist in the room (tests/helpers/rooms.py's room)."""
    await call(
        hass,
        "play_media",
        {
            "media_content_id": f"playlist:{playlist_id(entry, 'Steps')}",
            "media_content_type": "music",
        },
    )


def dominant_hz(pcm: bytes) -> float:
    """The strongest frequency of interleaved s16 stereo PCM (left channel)."""
    left = np.frombuffer(pcm, dtype="<i2")[::2].astype(float)
    spectrum = np.abs(np.fft.rfft(left * np.hanning(len(left))))
    return float(np.argmax(spectrum) * RATE / len(left))


@dataclass
class Chunk:
    """One audio chunk: when the server wants it heard (server clock, s) and its PCM."""

    at: float
    pcm: bytes


@dataclass
class SendspinTestPlayer:
    """A Sendspin client (player role, PCM only) connected to the box through HA's HTTP server."""

    name: str = "Kitchen speaker"
    identity: Identity = field(default_factory=Identity.generate)
    chunks: list[Chunk] = field(default_factory=list)
    ends: int = 0
    clears: int = 0  # stream/clear received (a restart while playing)
    # len(chunks) at each stream start or clear (a barrier: what follows is its audio)
    starts: list[int] = field(default_factory=list)
    client: SendspinClient | None = None
    session: ClientSession | None = None
    listener: ClientListener | None = None
    volume: int | None = None  # as the server last set it
    metadata: list[SessionUpdateMetadata] = field(default_factory=list)  # as they became current
    muted: bool | None = None
    codes: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    artwork: ArtworkChannel | None = None  # a screen: the artwork role with this one channel
    images: list[bytes] = field(default_factory=list)  # channel 0's, as shown (b"": cleared)
    # A screen with several channels (instead of `artwork`), and what each one was sent.
    artwork_channels: list[ArtworkChannel] = field(default_factory=list)
    channel_images: dict[int, list[bytes]] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        """The player's id (its public key)."""
        return self.identity.peer_id

    def _client(self, pairing: PairingSupport | None = None) -> SendspinClient:
        channels = self.artwork_channels or ([self.artwork] if self.artwork else [])
        client = self.client = SendspinClient(
            self.identity,
            self.name,
            [Roles.PLAYER, Roles.METADATA, *([Roles.ARTWORK] if channels else [])],
            pairing_store=InMemoryClientPairingStore(),
            session=self.session,
            player_support=ClientHelloPlayerSupport(
                supported_formats=[
                    SupportedAudioFormat(
                        codec=AudioCodec.PCM, channels=2, sample_rate=RATE, bit_depth=16
                    )
                ],
                buffer_capacity=32_000_000,
            ),
            pairing_support=pairing,
            state_supported_commands=[PlayerCommand.VOLUME, PlayerCommand.MUTE],
            artwork_channels=channels or None,
        )
        client.add_artwork_listener(self._on_artwork)
        client.add_server_command_listener(self._on_command)
        client.add_metadata_listener(self._on_metadata)
        client.add_audio_chunk_listener(self._on_chunk)
        client.add_stream_end_listener(self._on_end)
        client.add_stream_start_listener(self._on_start)
        client.add_stream_clear_listener(self._on_clear)
        return client

    async def connect(self, url: str, token: str | None) -> None:
        """Connect to the box with a Home Assistant access token (or a signed URL), unpaired."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.session = ClientSession(headers=headers)
        client = self._client()
        await client.set_unpaired_access(enabled=True)
        await client.connect(url)

    async def listen(self) -> str:
        """Wait for servers on a loopback port, showing pairing codes; return the URL."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = self._client(PairingSupport(pairing_code_display=self._show_code))
        self.listener = ClientListener(
            self.client_id,
            client.attach_websocket,
            port=port,
            host="127.0.0.1",
            advertise_mdns=False,
        )
        await self.listener.start()
        return f"ws://127.0.0.1:{port}/sendspin"

    async def _show_code(self, code: str | None, *, grouped: str | None) -> None:
        if code is not None:
            self.codes.put_nowait(code)

    def _on_chunk(self, at_us: int, data: bytes, fmt: AudioFormat, _ahead: int) -> None:
        assert fmt.codec is AudioCodec.PCM
        self.chunks.append(Chunk(at_us / 1_000_000, bytes(data)))

    def _on_metadata(self, payload: ServerStatePayload | None) -> None:
        if payload is not None and isinstance(payload.metadata, SessionUpdateMetadata):
            self.metadata.append(payload.metadata)

    def _on_artwork(self, channel: int, image: bytes) -> None:
        self.channel_images.setdefault(channel, []).append(image)
        if channel == 0:
            self.images.append(image)

    def _on_command(self, payload: ServerCommandPayload) -> None:
        if (command := payload.player) is not None:
            if command.volume is not None:
                self.volume = command.volume
            if command.mute is not None:
                self.muted = command.mute

    def _on_start(self, _message: object) -> None:
        self.starts.append(len(self.chunks))

    def _on_clear(self, _roles: list[str] | None) -> None:
        self.clears += 1
        self.starts.append(len(self.chunks))

    def since(self, starts: int) -> list[Chunk]:
        """Return the chunks of the streams started after the first `starts` ones."""
        return self.chunks[self.starts[starts] :] if len(self.starts) > starts else []

    def _on_end(self, _roles: list[str] | None) -> None:
        self.ends += 1

    async def disconnect(self) -> None:
        """Leave (goodbye) and close the session."""
        if self.client is not None:
            await self.client.disconnect()
        if self.listener is not None:
            await self.listener.stop()
        if self.session is not None:
            await self.session.close()


@asynccontextmanager
async def box_on_player(
    hass: HomeAssistant, library: Path, player: SendspinTestPlayer
) -> AsyncIterator[MockConfigEntry]:
    """A box whose output is `player` (not connected yet), unloaded after."""
    hass.config.allowlist_external_dirs = {str(library.parent)}
    entry = box_entry(library, {CONF_OUTPUT: OUTPUT_SENDSPIN, CONF_CLIENT_ID: player.client_id})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await player.disconnect()
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


async def connect(
    hass_client: Any, entry: MockConfigEntry, player: SendspinTestPlayer, token: str
) -> None:
    """Connect `player` to the box's authenticated Sendspin endpoint."""
    client = await hass_client()
    url = str(client.make_url(f"/api/open_music_box/sendspin/{entry.entry_id}"))
    await player.connect(url.replace("http://", "ws://"), token)
