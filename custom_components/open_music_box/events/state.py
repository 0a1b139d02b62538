"""How the box's state looks to clients: players, queues, tracks and playlists as plain dicts."""

from __future__ import annotations

from typing import Any

from ..playback.player import Player


def player_dict(player: Player) -> dict[str, Any]:
    """Return a player's (the box's or a room's) state as clients see it, without the queue."""
    track = player.current
    return {
        "state": player.state.value,
        "track": None if track is None else track_dict(track),
        "queue_position": player.pos if player.order else None,
        "playlist_id": player.playlist_id,
        "volume": round(player.volume, 4),
        "max_volume": player.settings.max_volume,
        "muted": player.muted,
        "shuffle": player.shuffle,
        "repeat": player.repeat.value,
        "position_ms": round(player.position * 1000),
        "position_updated_at": player.position_updated_at.isoformat(),
    }


def queue_ids(player: Player) -> list[str]:
    """Return a player's queue as clients see it: track ids in play order."""
    return [player.queue[i].id for i in player.order]


def track_dict(track: Any) -> dict[str, Any]:
    """Describe a track for clients and bus events."""
    return {
        "track_id": track.id,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "duration_ms": None if track.duration is None else round(track.duration * 1000),
    }


def playlist_summary(playlist: Any, mode: str = "album") -> dict[str, Any]:
    """Describe a playlist without its tracks (`LiveState.summary` fills in its mode)."""
    return {
        "id": playlist.id,
        "name": playlist.name,
        "kind": playlist.kind.value,
        "read_only": playlist.read_only,
        "track_count": len(playlist.track_ids),
        "mode": str(mode),
    }
