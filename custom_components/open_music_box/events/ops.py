"""Results of commands by client_op_id: a command repeated by a reconnecting client runs once."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
import time
from typing import Any

from ..catalog import validation_error

OP_TTL_SECONDS = 300.0
OP_CACHE_SIZE = 2000


class OperationCache:
    """Results of commands by client_op_id, per user: a repeat within the TTL gets the first result.

    A future is stored at once, so a repeat that arrives while the first is still running waits
    for that result instead of acting twice. Each user has his own bounded cache (the oldest
    entries go first), so one user's flood never evicts another's ids. An op id names one command:
    the same id for another command is refused, never answered with the first command's result.
    """

    def __init__(self, ttl: float = OP_TTL_SECONDS, size: int = OP_CACHE_SIZE) -> None:
        """Initialize the operation cache."""
        self._ttl = ttl
        self._size = size
        self._users: dict[str, OrderedDict[str, tuple[float, str, asyncio.Future[Any]]]] = {}

    def __len__(self) -> int:
        """Return how many entries there are."""
        return sum(len(entries) for entries in self._users.values())

    def _expire(self, now: float) -> None:
        for user, entries in list(self._users.items()):
            while entries:
                key, (expires, _, _) = next(iter(entries.items()))
                if expires > now:
                    break
                del entries[key]
            if not entries:
                del self._users[user]

    async def run(
        self, user: str, op_id: str, command: str, action: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Run `action` once per user and op id within the TTL; repeats get the same outcome."""
        now = time.monotonic()
        self._expire(now)
        entries = self._users.setdefault(user, OrderedDict())
        if (found := entries.get(op_id)) is not None:
            if found[1] != command:
                raise validation_error("op_id_conflict", op_id=op_id, command=found[1])
            return await asyncio.shield(found[2])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entries[op_id] = (now + self._ttl, command, future)
        while len(entries) > self._size:
            entries.popitem(last=False)
        try:
            result = await action()
        except asyncio.CancelledError:
            # No result to hand out: forget the key, or every repeat would wait on it for the TTL.
            if entries.get(op_id, (0.0, "", None))[2] is future:
                del entries[op_id]
            future.cancel()
            raise
        except Exception as err:
            future.set_exception(err)
            future.exception()  # retrieved here: repeats re-raise it
            raise
        future.set_result(result)
        return result
