"""NFC tags: who may link, bad input refused, tag ids kept out of the logs.

Real HA core with its `tag` component (scans go through `tag.async_scan_tag`, as ESPHome and the
companion app do), real libmpv (ao=null), real WebSocket connections.
"""
# ruff: noqa: F811  (fixtures of tests/helpers are imported, then requested by name)

from __future__ import annotations

import logging

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
)

from custom_components.open_music_box.const import (
    DOMAIN,
)
from custom_components.open_music_box.tag_model import MAX_TAG_ID_LENGTH, redacted

from .helpers.tags import (  # noqa: F401 (fixtures)
    ANIMALS,
    AUDIOBOOK,
    TAG_A,
    TAG_B,
    Ws,
    act,
    link,
    scan,
    tag_component,
    track_id,
    ws,
    ws_user,
)

# Bad input to actions and commands -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "x" * (MAX_TAG_ID_LENGTH + 1)])
async def test_bad_tag_ids_are_refused(
    hass: HomeAssistant, entry: MockConfigEntry, ws: Ws, bad: str
) -> None:
    """A translated error from the actions and the commands."""
    with pytest.raises(ServiceValidationError) as err:
        await link(hass, entry, bad, ANIMALS)
    assert err.value.translation_key == "invalid_tag_id"
    assert err.value.translation_placeholders == {"max": str(MAX_TAG_ID_LENGTH)}
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "unlink_tag", tag_id=bad)
    assert err.value.translation_key == "invalid_tag_id"
    error = await ws.error("tags/link", "invalid_tag_id", tag_id=bad, playlist_id=ANIMALS)
    assert error["translation_domain"] == DOMAIN
    await ws.error("tags/unlink", "invalid_tag_id", tag_id=bad)
    assert (await ws.ok("tags/list"))["tags"] == []


async def test_bad_links_are_refused(hass: HomeAssistant, entry: MockConfigEntry, ws: Ws) -> None:
    """Unknown playlist, start track of another playlist, unknown tag, bad timeouts, bad types."""
    with pytest.raises(ServiceValidationError) as err:
        await link(hass, entry, TAG_A, "nope")
    assert err.value.translation_key == "unknown_playlist"
    chapter = track_id(entry, "Chapter 1")
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass, entry, "link_tag", tag_id=TAG_A, playlist_id=ANIMALS, start_track_id=chapter
        )
    assert err.value.translation_key == "track_not_in_playlist"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "unlink_tag", tag_id=TAG_A)
    assert err.value.translation_key == "unknown_tag"
    for timeout in (4, 601):
        with pytest.raises(ServiceValidationError) as err:
            await act(hass, entry, "associate_tag", playlist_id=ANIMALS, timeout=timeout)
        assert err.value.translation_key == "invalid_timeout"
        assert err.value.translation_placeholders == {"min": "5", "max": "600"}
        await ws.error("tags/associate", "invalid_timeout", playlist_id=ANIMALS, timeout=timeout)
    await ws.error("tags/associate", "unknown_playlist", playlist_id="nope")
    await ws.error(
        "tags/associate", "track_not_in_playlist", playlist_id=ANIMALS, start_track_id=chapter
    )
    await ws.error("tags/associate", "invalid_format", playlist_id=ANIMALS, timeout=True)
    await ws.error("tags/link", "invalid_format", tag_id=7, playlist_id=ANIMALS)
    await ws.error("tags/link", "invalid_format", tag_id=TAG_A, playlist_id=ANIMALS, shuffle=1)
    await ws.error("tags/link", "unknown_playlist", tag_id=TAG_A, playlist_id="nope")
    await ws.error("tags/unlink", "unknown_tag", tag_id=TAG_A)
    await ws.error("tags/override", "no_duplicate_tag")
    await ws.error("tags/cancel", "no_association_session")
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "override_tag")
    assert err.value.translation_key == "no_duplicate_tag"
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, entry, "cancel_association")
    assert err.value.translation_key == "no_association_session"
    assert entry.runtime_data.tags.session is None
    assert (await ws.ok("tags/list"))["tags"] == []


# Permissions -----------------------------------------------------------------


async def test_non_admin_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, ws_user: Ws, hass_read_only_user: MockUser
) -> None:
    """Users who are not administrators can list, but not link, unlink or associate."""
    await link(hass, entry, TAG_A, ANIMALS)
    for command, fields in (
        ("tags/link", {"tag_id": TAG_B, "playlist_id": ANIMALS}),
        ("tags/unlink", {"tag_id": TAG_A}),
        ("tags/associate", {"playlist_id": ANIMALS}),
        ("tags/override", {}),
        ("tags/cancel", {}),
    ):
        await ws_user.error(command, "unauthorized", **fields)
    # Listed, with a digest instead of the tag id (it is a secret).
    assert [t["tag_digest"] for t in (await ws_user.ok("tags/list"))["tags"]] == [redacted(TAG_A)]

    context = Context(user_id=hass_read_only_user.id)
    for service, fields in (
        ("link_tag", {"tag_id": TAG_B, "playlist_id": ANIMALS}),
        ("unlink_tag", {"tag_id": TAG_A}),
        ("associate_tag", {"playlist_id": ANIMALS}),
        ("override_tag", {}),
        ("cancel_association", {}),
    ):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                service,
                {"config_entry_id": entry.entry_id, **fields},
                blocking=True,
                context=context,
            )
    with pytest.raises(UnknownUser):
        await hass.services.async_call(
            DOMAIN,
            "override_tag",
            {"config_entry_id": entry.entry_id},
            blocking=True,
            context=Context(user_id="no-such-user"),
        )
    response = await hass.services.async_call(
        DOMAIN,
        "list_tags",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        context=context,
        return_response=True,
    )
    assert [t["tag_digest"] for t in response["tags"]] == [redacted(TAG_A)]  # type: ignore[index, union-attr]
    assert entry.runtime_data.tags.session is None


async def test_admin_user_may_link(
    hass: HomeAssistant, entry: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """An administrator's call goes through."""
    await hass.services.async_call(
        DOMAIN,
        "link_tag",
        {"config_entry_id": entry.entry_id, "tag_id": TAG_A, "playlist_id": ANIMALS},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await act(hass, entry, "unlink_tag", tag_id=TAG_A)
    listed = await act(hass, entry, "list_tags")
    assert listed == {"tags": [], "session": None}


async def test_link_by_websocket_with_op_id(hass: HomeAssistant, ws: Ws) -> None:
    """tags/link returns the link and the seq; a repeated client_op_id acts once."""
    first = await ws.ok(
        "tags/link", tag_id=TAG_A, playlist_id=ANIMALS, shuffle=True, client_op_id="op-1"
    )
    assert first["tag_id"] == TAG_A
    assert first["shuffle"] is True
    assert "seq" in first
    again = await ws.ok("tags/link", tag_id=TAG_A, playlist_id=AUDIOBOOK, client_op_id="op-1")
    assert again == first
    assert (await ws.ok("tags/list"))["tags"][0]["playlist_id"] == ANIMALS


async def test_logs_do_not_hold_tag_ids(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Tag ids may open doors elsewhere: our log lines never show them."""
    caplog.set_level(logging.DEBUG, logger="custom_components.open_music_box")
    await link(hass, entry, TAG_A, ANIMALS)
    await scan(hass, TAG_A)
    await scan(hass, TAG_B)
    # A link whose playlist cannot play: the warning is about that tag, so it must name it somehow.
    empty = entry.runtime_data.catalog.create_playlist("Empty")
    await link(hass, entry, TAG_B, empty.id)
    await scan(hass, TAG_B)
    ours = [r for r in caplog.records if r.name.startswith("custom_components.open_music_box")]
    about_the_tag = [r.getMessage() for r in ours if "of tag" in r.getMessage()]
    assert about_the_tag  # something was logged about a tag: the check below checks something
    assert redacted(TAG_B) in about_the_tag[-1]  # the tag is named by its digest
    forms = {
        form
        for tag in (TAG_A, TAG_B)
        for form in (tag, tag.lower(), tag.replace("-", ""), tag.replace("-", "").lower())
    }
    assert all(form not in r.getMessage() for r in ours for form in forms)
