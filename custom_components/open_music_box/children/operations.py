"""Handlers of the children's operations (rows of the table in api/operations.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api.operations import Call


async def grant_extra_minutes(call: Call) -> dict[str, Any]:
    """Give the box extra listening minutes for today (a reached limit is lifted)."""
    call.box.daily_limit.grant(call.data["minutes"])
    return call.box.daily_limit.as_dict()


async def set_bedtime_playlist(call: Call) -> dict[str, Any]:
    """Mark a playlist as one a tag may start at bedtime, or not."""
    bedtime = call.box.bedtime
    bedtime.set_playlist(call.data["playlist_id"], call.data["bedtime"])
    return {"bedtime_playlists": bedtime.playlists()}


async def children_status(call: Call) -> dict[str, Any]:
    """Return today's listening, whether it is bedtime, and the bedtime playlists (the panel)."""
    box = call.box
    return {
        **box.daily_limit.as_dict(),
        "bedtime": box.bedtime.active,
        "bedtime_playlists": box.bedtime.playlists(),
    }
