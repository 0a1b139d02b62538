"""Feed a track to a Sendspin stream, each chunk stamped at the server time it must be heard.

Shared by the room's Sendspin members and the box's Sendspin output: both decode in the
executor, send 48 kHz s16 stereo PCM ahead of its time, and set the player's own volume.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiosendspin.server import AudioFormat, SendspinClient
from aiosendspin.server.push_stream import PushStream
from homeassistant.core import HomeAssistant

from ..models import Track
from .decoder import BYTES_PER_FRAME, CHANNELS, RATE, PcmDecoder

LATE_LEAD_SECONDS = 0.25  # a late start is stamped this far ahead (Sendspin's own initial delay)
MAX_LEAD_SECONDS = 0.5  # a box's own output starts no later; rooms start 1 s ahead anyway
CHUNK_FRAMES = RATE // 10  # 100 ms per commit
BUFFER_US = 1_500_000  # how far ahead of its time the audio is sent
PCM = AudioFormat(sample_rate=RATE, bit_depth=16, channels=CHANNELS)


async def async_open_decoder(hass: HomeAssistant, track: Track, position: float) -> PcmDecoder:
    """Open `track` at `position` in the executor; raise OSError/ValueError when it cannot."""
    return await hass.async_add_executor_job(PcmDecoder, Path(track.path), max(0.0, position))


async def async_feed(
    hass: HomeAssistant,
    stream: PushStream,
    decoder: PcmDecoder,
    start: float,
    on_chunk: Callable[[], None] | None = None,
) -> float:
    """Send what `decoder` gives, its first frame heard at server time `start`; return the end.

    Closes the decoder. Returns the server time at which the audio sent ends.
    """
    start_us = int(start * 1_000_000)
    frames = 0
    try:
        while pcm := await hass.async_add_executor_job(decoder.read, CHUNK_FRAMES):
            stream.prepare_audio(pcm, PCM)
            await stream.commit_audio(play_start_us=start_us + frames * 1_000_000 // RATE)
            frames += len(pcm) // BYTES_PER_FRAME
            if on_chunk is not None:
                on_chunk()
            await stream.sleep_to_limit_buffer(BUFFER_US)
    finally:
        await hass.async_add_executor_job(decoder.close)
    return start + frames / RATE


def player_lead(client: SendspinClient | None) -> float:
    """Return how far ahead of its time a player needs the first audio of a stream (s).

    What the player reports: its startup lead plus its static delay, since it plays that much
    earlier than the timestamps (a browser: 200 ms + its output latency, so with 250 ms its
    first audio was already due and it started late, then slid in by resampling). At least
    LATE_LEAD_SECONDS, at most MAX_LEAD_SECONDS.
    """
    roles = client.roles_by_family("player") if client is not None else []
    need = max((r.get_required_lead_time_us() + r.get_output_delay_us() for r in roles), default=0)
    return min(max(need / 1_000_000, LATE_LEAD_SECONDS), MAX_LEAD_SECONDS)


def restart_stream(client: SendspinClient) -> PushStream:
    """End the player's stream, if any, and start a new one.

    After a stream/clear while it plays (aiosendspin's start_stream over an active stream) the
    `sendspin` daemon started the new audio 47-73 ms late (it only stops its output stream and
    times the restart through it); after a stream/end it closes its output, and the new stream
    starts from silence like a first play (measured by bench/bench_sync_output.py).
    """
    if client.group.has_active_stream:
        client.group.stop_stream()
    return client.group.start_stream()


def apply_volume(client: SendspinClient, volume: float, muted: bool) -> None:
    """Set a player's own volume (0..1) and mute."""
    for role in client.roles_by_family("player"):
        role.set_volume(round(max(0.0, min(1.0, volume)) * 100))  # type: ignore[attr-defined]
        role.set_mute(muted)  # type: ignore[attr-defined]
