"""The library's items as Home Assistant media items (browsing and voice search share them)."""

from __future__ import annotations

from homeassistant.components.media_player import BrowseMedia, MediaClass, MediaType


def playlist_item(
    media_id: str, title: str, children: list[BrowseMedia] | None = None
) -> BrowseMedia:
    """Return a playable, expandable playlist item (`playlist:<id>`)."""
    return BrowseMedia(
        media_class=MediaClass.PLAYLIST,
        media_content_id=media_id,
        media_content_type=MediaType.PLAYLIST,
        title=title,
        can_play=True,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.TRACK,
    )


def track_item(media_id: str, title: str) -> BrowseMedia:
    """Return a playable track item (`track:<id>`)."""
    return BrowseMedia(
        media_class=MediaClass.TRACK,
        media_content_id=media_id,
        media_content_type=MediaType.TRACK,
        title=title,
        can_play=True,
        can_expand=False,
    )
