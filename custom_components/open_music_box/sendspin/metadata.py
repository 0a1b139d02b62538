"""What a Sendspin player with a screen shows: the room's track and where it is."""

from __future__ import annotations

from aiosendspin.server import SendspinClient
from aiosendspin.server.roles.metadata import Metadata, MetadataGroupRole

from ..models import Track

NORMAL_SPEED = 1000  # Sendspin's playback_speed unit: x1000


def publish_track(
    client: SendspinClient, track: Track, position: float, at_us: int | None, *, playing: bool
) -> None:
    """Show `track` at `position` as of server time `at_us` (None: now), playing or paused."""
    role = client.group.group_role("metadata")
    if not isinstance(role, MetadataGroupRole):
        return  # a player without the metadata role
    role.set_metadata(
        Metadata(
            title=track.title,
            artist=track.artist,
            album=track.album,
            track=track.track_number,
            track_duration=round(track.duration * 1000) if track.duration else None,
            track_progress=round(max(0.0, position) * 1000),
            playback_speed=NORMAL_SPEED if playing else 0,
        ),
        timestamp_us=at_us,
    )
