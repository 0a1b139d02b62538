"""Tasks of one part (a player, an output): started eagerly, cancelled and awaited when it closes.

A player or an output reacts to its output's events with short tasks (advance, skip, recover).
They are kept here so that closing the part (the entry unloads) leaves none running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN


class PartTasks:
    """The running tasks of one part; none start once it is closed."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the part tasks."""
        self._hass = hass
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @callback
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run `coro` now (eagerly) as a task of this part."""
        if self._closed:
            coro.close()
            return
        task = self._hass.async_create_task(coro, f"{DOMAIN} {name}", eager_start=True)
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def async_close(self, *, cancel: bool = True) -> None:
        """Wait until the running tasks are gone (cancelled first unless `cancel` is False).

        Without cancelling, a task ends its step: one that opens libmpv then closes what it
        opened rather than leaving a handle half made. No task starts after this.
        """
        self._closed = True
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        if cancel:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
