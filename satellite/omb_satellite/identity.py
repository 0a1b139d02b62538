"""The satellite's lasting member id, kept in a file next to its config.

With it a rebooted satellite rejoins the room as the same member (same id in the room's member
list and its automations), not as a stranger.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import re
import uuid

_LOGGER = logging.getLogger(__name__)

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # never like a local member's "local:…"


def load_identity(path: Path) -> str:
    """Return the member id kept at `path`, making and saving one on the first run.

    A file that cannot be written only costs the identity after a restart: say so and go on.
    """
    try:
        text = path.read_text("utf-8").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as err:
        _LOGGER.warning("Cannot read the member id in %s (%s): joining as a new member", path, err)
        return uuid.uuid4().hex
    if VALID_ID.fullmatch(text):
        return text
    if text:
        _LOGGER.warning("Replacing the malformed member id in %s", path)
    member_id = uuid.uuid4().hex
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(member_id + "\n", "utf-8")
        os.replace(temporary, path)  # never a half-written id after a power cut
    except OSError as err:
        _LOGGER.warning(
            "Cannot save the member id to %s (%s): after a restart this satellite joins the "
            "room as a new member",
            path,
            err,
        )
    else:
        _LOGGER.info("New member id %s, kept in %s", member_id, path)
    return member_id
