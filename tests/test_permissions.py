"""Who may do what, read from the one table of operations: every action and every command tried
as a non-admin user; refusals that cost no log line; tag ids hidden from non-admins; op ids
that cannot be turned against another user. Real HA core, real libmpv (ao=null).
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.auth.models import User
from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol

from custom_components.open_music_box.api import websocket as ws_module
from custom_components.open_music_box.api.operations import BY_ACTION, OPERATIONS, Operation
from custom_components.open_music_box.const import DOMAIN
from custom_components.open_music_box.events import OP_CACHE_SIZE
from custom_components.open_music_box.tags import redacted

from .helpers.ws import ANIMALS, Client, Stepping

TAG = "04:a2:19:5e:11:90"
# A value for every required field of the table; calls may fail for other reasons (a folder
# playlist is read-only, the url is not http...), never for the permission when allowed.
SAMPLE: dict[str, Any] = {
    "playlist_id": ANIMALS,
    "source_playlist_id": ANIMALS,
    "target_playlist_id": ANIMALS,
    "track_id": "tnope",
    "track_ids": [],
    "name": "Sample",
    "mode": "album",
    "tag_id": "sample-tag",
    "url": "ftp://example.invalid/story.mp3",
    "job_id": "nope",
    "minutes": 0,
    "position_ms": 0,
    "volume": 0.5,
    "muted": False,
    "shuffle": False,
    "repeat": "off",
    "bedtime": True,
    "room_id": "nope",
    "refusal_sound": "none",
    "member_id": "local:nope",
    "kind": "entity",
    "member": "media_player.nope",
    "offset_ms": 0,
    "device_id": "nope",
    "assignment": "none",
}


@pytest.fixture
async def admin(
    hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> Client:
    """An administrator's connection."""
    return Client(await hass_ws_client(hass), entry.entry_id)


@pytest.fixture
async def reader(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> Client:
    """A non-admin user's connection."""
    return Client(await hass_ws_client(hass, hass_read_only_access_token), entry.entry_id)


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test send many commands: the rate limiter sees each one a second after the last."""
    monkeypatch.setattr(ws_module, "time", Stepping())


def sample(op: Operation) -> dict[str, Any]:
    """Return the required fields of an operation, filled in from SAMPLE."""
    return {str(k): SAMPLE[str(k)] for k in op.fields if isinstance(k, vol.Required)}


async def action(
    hass: HomeAssistant, entry: MockConfigEntry, service: str, user: User | None, /, **data: Any
) -> Any:
    """Call an action as this user (None: as an automation does)."""
    op = BY_ACTION[service]
    return await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **data},
        blocking=True,
        context=Context(user_id=None if user is None else user.id),
        return_response=op.response.value != "none",
    )


def test_the_rule() -> None:
    """Edits of the library, playlists, tags, imports and modes are the admin-only ones."""
    admin_only = {op.command for op in OPERATIONS if op.admin_only}
    assert {"rescan", "tags/link", "tags/unlink", "tags/associate", "tags/override"} < admin_only
    assert {"tags/cancel", "playlists/set_mode", "imports/start", "imports/cancel"} < admin_only
    assert {c for c in admin_only if c.startswith("playlists/")} == {
        f"playlists/{name}"
        for name in (
            "create",
            "rename",
            "delete",
            "add_tracks",
            "remove_tracks",
            "reorder",
            "move_track",
            "set_mode",
            "set_bedtime",
        )
    }
    assert not {c for c in admin_only if c.startswith("player/")}
    # The panel's Rooms view changes a room's settings; listing what may join is a read.
    assert {c for c in admin_only if c.startswith("rooms/")} == {
        "rooms/add_member",
        "rooms/remove_member",
        "rooms/set_offset",
    }
    # Reads are for everyone, but for the settings only administrators make (tag readers).
    assert {op.command for op in OPERATIONS if op.admin_only and op.kind.value != "edit"} == {
        "children/readers"
    }


async def test_every_command_as_non_admin(reader: Client, admin: Client, unhurried: None) -> None:
    """Each command is refused to a non-admin exactly when the table says it is admin-only."""
    before = await admin.ok("playlists/list")
    for op in OPERATIONS:
        reply = await reader.call(op.command, **sample(op))
        refused = not reply["success"] and reply["error"]["code"] == "unauthorized"
        assert refused is op.admin_only, (op.command, reply)
        if refused:
            assert reply["error"]["translation_key"] == "admin_only"
    await reader.ok("player/stop")
    assert (await admin.ok("playlists/list"))["playlists"] == before["playlists"]


# Commands outside the table, for every logged-in user by design: the live state, the clock and
# membership of satellites, Listen here. Each with fields that get past the permission.
ANY_USER: dict[str, dict[str, Any]] = {
    "subscribe": {"entry_id": None},
    "time": {},
    "room/join": {"room_id": "nope"},
    "room/ready": {"room_id": "nope", "member_id": "nope", "generation": 0},
    "room/report": {
        "room_id": "nope",
        "member_id": "nope",
        "generation": 0,
        "position": 0.0,
        "server_time": 1.0,
        "clock_offset": 0.0,
        "clock_rtt": 0.001,
        "speed": 1.0,
    },
    "room/leave": {"room_id": "nope", "member_id": "nope"},
    "room/remove_member": {"room_id": "nope", "member_id": "nope"},
    "sendspin/listen_url": {"config_entry_id": None},
    "sendspin/join": {"room_id": "nope", "client_id": "nope"},
}


async def test_every_websocket_command_is_in_the_table_or_for_everyone(
    hass: HomeAssistant, entry: MockConfigEntry, reader: Client, unhurried: None
) -> None:
    """No command of the integration escapes the rule: each registered one is a row of the
    table (tried above) or one of the few every user may send, which a non-admin gets past."""
    registered = {
        command.removeprefix(f"{DOMAIN}/")
        for command in hass.data["websocket_api"]
        if command.startswith(f"{DOMAIN}/")
    }
    table = {op.command for op in OPERATIONS}
    assert not table & ANY_USER.keys()
    assert registered == table | ANY_USER.keys()
    for command, fields in ANY_USER.items():
        fields = {k: entry.entry_id if v is None else v for k, v in fields.items()}
        reply = await reader.reply(await reader.send_raw({"type": f"{DOMAIN}/{command}", **fields}))
        if not reply["success"]:
            assert reply["error"]["code"] in ("room_not_found", "member_not_found"), reply
        elif command == "subscribe":
            await reader.ping()  # its snapshot follows


async def test_every_action_as_non_admin_and_as_automation(
    hass: HomeAssistant, entry: MockConfigEntry, hass_read_only_user: User
) -> None:
    """Actions follow the same table; automations and scripts (no user) may do everything."""
    for name, op in BY_ACTION.items():
        data = sample(op)
        try:
            await action(hass, entry, name, hass_read_only_user, **data)
        except Unauthorized:
            refused = True
        except HomeAssistantError:
            refused = False  # refused for its input, not for the user
        else:
            refused = False
        assert refused is op.admin_only, name
    for name, op in BY_ACTION.items():
        try:
            await action(hass, entry, name, None, **sample(op))
        except Unauthorized:  # pragma: no cover - the failure this test is about
            pytest.fail(f"{name} refused to an automation")
        except HomeAssistantError:
            pass


async def test_refusals_are_cheap(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    reader: Client,
    hass_read_only_user: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200 refused commands and 200 refused actions leave no ERROR line (HA's require_admin
    logs one per refused message); the connection stays open and is not rate limited for it."""
    caplog.set_level(logging.WARNING)
    msg_ids = [await reader.send("rescan") for _ in range(200)]
    for msg_id in msg_ids:
        reply = await reader.reply(msg_id)
        assert reply["error"]["code"] == "unauthorized"
    for _ in range(200):
        with pytest.raises(Unauthorized):
            await action(hass, entry, "rescan", hass_read_only_user)
    await reader.works()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_refused_actions_over_the_websocket_api_are_not_logged(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    admin: Client,
    reader: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What the frontend does: HA's `call_service` command. Every admin action refused to a
    non-admin, then 200 rescans, leave no ERROR line (HA logs one per failed service call);
    a non-admin's mistake in an action it may call is still logged as HA logs it."""
    caplog.set_level(logging.WARNING)

    async def call_service(client: Client, service: str, **data: Any) -> dict[str, Any]:
        op = BY_ACTION[service]
        return await client.reply(
            await client.send_raw(
                {
                    "type": "call_service",
                    "domain": DOMAIN,
                    "service": service,
                    "service_data": {ATTR_CONFIG_ENTRY_ID: entry.entry_id, **data},
                    "return_response": op.response.value != "none",
                }
            )
        )

    before = await admin.ok("playlists/list")
    admin_only = [name for name, op in BY_ACTION.items() if op.admin_only]
    assert "rescan" in admin_only
    for name in admin_only:
        reply = await call_service(reader, name, **sample(BY_ACTION[name]))
        assert not reply["success"]
        assert reply["error"]["message"] == "Unauthorized", name
    for _ in range(200):
        reply = await call_service(reader, "rescan")
        assert reply["error"]["message"] == "Unauthorized"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert (await admin.ok("playlists/list"))["playlists"] == before["playlists"]
    # Only refusals are quiet: a failing action the user may call is logged by HA as before.
    reply = await call_service(reader, "get_playlist", playlist_id="nope")
    assert not reply["success"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR]


# Tag ids -----------------------------------------------------------------


async def test_tag_ids_only_for_admins(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    admin: Client,
    reader: Client,
    hass_read_only_user: User,
) -> None:
    """Lists, the snapshot and the events give non-admins a digest of each tag id."""
    await admin.ok("tags/link", tag_id=TAG, playlist_id=ANIMALS)
    digest = redacted(TAG)

    assert [t["tag_id"] for t in (await admin.ok("tags/list"))["tags"]] == [TAG]
    (listed,) = (await reader.ok("tags/list"))["tags"]
    assert "tag_id" not in listed
    assert (listed["tag_digest"], listed["playlist_id"]) == (digest, ANIMALS)
    response = await action(hass, entry, "list_tags", hass_read_only_user)
    assert [t["tag_digest"] for t in response["tags"]] == [digest]
    assert TAG not in str(response)
    response = await action(hass, entry, "list_tags", None)
    assert [t["tag_id"] for t in response["tags"]] == [TAG]

    theirs, mine = await reader.feed(), await admin.feed()
    assert [t["tag_digest"] for t in theirs.events[0]["data"]["tags"]] == [digest]
    assert [t["tag_id"] for t in mine.events[0]["data"]["tags"]] == [TAG]
    result = await admin.ok("tags/link", tag_id="second", playlist_id=ANIMALS)
    (event,) = await theirs.of_type(result["seq"], "tags")
    assert sorted(t["tag_digest"] for t in event["tags"]) == sorted([digest, redacted("second")])
    (event,) = await mine.of_type(result["seq"], "tags")
    assert sorted(t["tag_id"] for t in event["tags"]) == sorted([TAG, "second"])
    result = await admin.ok("tags/associate", playlist_id=ANIMALS)
    (session,) = await theirs.of_type(result["seq"], "tag_association")
    assert session["tag_digest"] is None
    assert "tag_id" not in session
    assert TAG not in str(theirs.events)


# De-duplication -----------------------------------------------------------------


async def test_a_flood_of_op_ids_does_not_evict_another_users(
    admin: Client, reader: Client, unhurried: None
) -> None:
    """Each user has his own op-id cache: 2,050 ops of a non-admin keep the admin's id."""
    first = await admin.ok("player/volume", volume=0.2, client_op_id="keep")
    count = OP_CACHE_SIZE + 50
    for start in range(0, count, 200):
        msg_ids = [
            await reader.send("player/mute", muted=False, client_op_id=f"flood-{i}")
            for i in range(start, min(start + 200, count))
        ]
        for msg_id in msg_ids:
            assert (await reader.reply(msg_id))["success"]
    assert await admin.ok("player/volume", volume=0.9, client_op_id="keep") == first
    # The flooder's own oldest ids did go (his cache is bounded).
    again = await reader.ok("player/mute", muted=False, client_op_id="flood-0")
    assert again["seq"] >= first["seq"]


async def test_op_id_reused_for_another_command_is_a_conflict(
    admin: Client,
) -> None:
    """An op id names one command: another command with it is refused, not answered."""
    first = await admin.ok("player/volume", volume=0.3, client_op_id="x")
    before = await admin.ok("playlists/list")
    error = await admin.error("playlists/create", "op_id_conflict", name="New", client_op_id="x")
    assert (error["translation_domain"], error["translation_key"]) == (DOMAIN, "op_id_conflict")
    assert error["translation_placeholders"] == {"op_id": "x", "command": "player/volume"}
    assert "player/volume" in error["message"]
    after = await admin.ok("playlists/list")
    assert after["playlists"] == before["playlists"]  # nothing was created
    await admin.error("player/play", "op_id_conflict", client_op_id="x")
    # The same command with the id still gets its first result.
    assert await admin.ok("player/volume", volume=0.8, client_op_id="x") == first
