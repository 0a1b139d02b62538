"""Tag ids are secrets (they open doors): what others than administrators see instead."""

from __future__ import annotations

from typing import Any

from ..tags import redacted


def redact_tags(value: Any) -> Any:
    """Replace every tag id in a result or event by its digest (tag ids open doors)."""
    if isinstance(value, list):
        return [redact_tags(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: redact_tags(item) for key, item in value.items() if key != "tag_id"}
    if "tag_id" in value:
        tag_id = value["tag_id"]
        out["tag_digest"] = None if tag_id is None else redacted(tag_id)
    return out
