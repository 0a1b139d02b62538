"""Callbacks told of a change: the player, catalog, tags, sleep timer and rooms all keep some."""

from __future__ import annotations

from collections.abc import Callable


class Listeners[**P]:
    """A list of callbacks; adding one returns what removes it (HA's unsubscribe style)."""

    def __init__(self) -> None:
        """Initialize the listeners."""
        self._callbacks: list[Callable[P, None]] = []

    def add(self, listener: Callable[P, None]) -> Callable[[], None]:
        """Call `listener` on every notify until the returned function is called."""
        self._callbacks.append(listener)
        return lambda: self._callbacks.remove(listener)

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every listener (a copy of the list: one may remove itself meanwhile)."""
        for listener in list(self._callbacks):
            listener(*args, **kwargs)
