"""Acknowledged means durable, end to end: a real Home Assistant process killed with SIGKILL.

Home Assistant runs as script/develop runs it (no browser here). A playlist is created, a tag
linked to it and the demo room's volume set, each through the REST API; the moment the last
answer arrives the process group gets SIGKILL (no orderly stop, no final write), and the box's
file is read back from disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
from typing import Any

import pytest

from .harness import ROOM_ENTITY_ID, home_assistant

pytestmark = pytest.mark.browser

DOMAIN = "open_music_box"


def test_answered_edits_survive_sigkill(tmp_path: Path) -> None:
    """The playlist, the tag link and the room's volume are in the file after kill -9."""
    config = tmp_path / "config"
    with home_assistant(config) as instance:
        api = instance.api
        created = instance.service("create_playlist", name="Kept", track_ids=[])
        playlist_id = created["id"]
        instance.service("link_tag", tag_id="kill-9-tag", playlist_id=playlist_id)
        room_id = api.ok("GET", f"/api/states/{ROOM_ENTITY_ID}")["attributes"]["room_id"]
        # A room stores its queue and settings while it has a queue: play a demo playlist.
        playlists = instance.service("list_playlists")["playlists"]
        demo = next(p for p in playlists if p["track_count"] > 0)
        room_call: dict[str, Any] = {"entity_id": ROOM_ENTITY_ID}
        api.ok(
            "POST",
            "/api/services/media_player/play_media",
            body={
                **room_call,
                "media_content_type": "playlist",
                "media_content_id": f"playlist:{demo['id']}",
            },
        )
        api.ok(
            "POST",
            "/api/services/media_player/volume_set",
            body={**room_call, "volume_level": 0.37},
        )
        os.killpg(instance.pid, signal.SIGKILL)  # right after the answer: nothing more runs

    stored = json.loads((config / ".storage" / f"{DOMAIN}.{instance.entry_id}").read_text())
    data = stored["data"]
    assert data["playlists"][playlist_id]["name"] == "Kept"
    assert data["tags"]["kill-9-tag"]["playlist_id"] == playlist_id
    room = data["rooms"][room_id]
    assert room["volume"] == 0.37
    assert room["playlist_id"] == demo["id"]
