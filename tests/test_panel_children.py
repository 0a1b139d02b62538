"""What the panel's Children view reads in one call (children/get): today's listening, bedtime,
its playlists.

Real HA core, real libmpv (ao=null), the generated library of tests/conftest.py.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

from .helpers.ws import ANIMALS, Client, admin, reader  # noqa: F401 (fixtures)


async def test_children_status_follows_the_changes(admin: Client, reader: Client) -> None:
    """Extra minutes, a bedtime playlist: the status says so, to any user (a read)."""
    status = await reader.ok("children/get")
    assert status["bedtime"]["active"] is False
    assert status["bedtime_playlists"] == []
    assert status["daily_limit"]["extra_minutes"] == 0
    await admin.ok("children/grant_extra_minutes", minutes=20)
    await admin.ok("playlists/set_bedtime", playlist_id=ANIMALS, bedtime=True)
    status = await reader.ok("children/get")
    assert status["daily_limit"]["extra_minutes"] == 20
    assert status["bedtime_playlists"] == [ANIMALS]
    assert {"limit_minutes", "listened_minutes", "reached"} <= status["daily_limit"].keys()
