"""The omb-satellite command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from .config import Settings, load_settings
from .errors import EXIT_ROOM, ConfigError
from .identity import load_identity
from .satellite import Satellite


async def run(settings: Settings, member_id: str) -> int:
    """Run a satellite until it stops; SIGINT and SIGTERM leave the room politely."""
    satellite = Satellite(
        settings.url,
        settings.token,
        settings.room,
        name=settings.name,
        audio_device=settings.audio_device,
        offset_ms=settings.offset_ms,
        ao=settings.ao,
        member_id=member_id,
    )
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()

    def on_signal() -> None:
        task = asyncio.create_task(satellite.stop())
        stopping.add(task)
        task.add_done_callback(stopping.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    return await satellite.run()


def main(argv: list[str] | None = None) -> int:
    """Run the satellite from the command line; return the exit code."""
    try:
        settings = load_settings(argv, os.environ)
    except ConfigError as err:
        print(f"omb-satellite: error: {err}", file=sys.stderr)
        return EXIT_ROOM
    logging.basicConfig(
        level=logging.DEBUG if settings.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if settings.config is not None:
        logging.getLogger(__name__).info("Settings from %s", settings.config)
    return asyncio.run(run(settings, load_identity(settings.identity)))
