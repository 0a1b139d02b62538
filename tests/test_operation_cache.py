"""The hub's operation cache: one run per operation id, errors repeated, bounded, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.open_music_box.events import (
    OperationCache,
)

from .helpers.hub import (
    TIMEOUT,
)

# Operation de-duplication -----------------------------------------------------------------


async def test_operation_cache_runs_once_per_key() -> None:
    """A repeat gets the first result without a second run; other keys run on their own."""
    cache = OperationCache()
    runs: list[str] = []

    async def action(value: str) -> str:
        runs.append(value)
        return value.upper()

    assert await cache.run("user", "a", "cmd", lambda: action("a")) == "A"
    assert await cache.run("user", "a", "cmd", lambda: action("again")) == "A"
    assert await cache.run("other user", "a", "cmd", lambda: action("b")) == "B"
    assert runs == ["a", "b"]
    assert len(cache) == 2


async def test_operation_cache_repeats_an_error() -> None:
    """A repeat of a failed operation gets the same error, without trying again."""
    cache = OperationCache()
    runs = 0

    async def failing() -> None:
        nonlocal runs
        runs += 1
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await cache.run("user", "op", "cmd", failing)
    with pytest.raises(ValueError, match="nope"):
        await cache.run("user", "op", "cmd", failing)
    assert runs == 1


async def test_operation_cache_concurrent_repeat_waits_for_the_first() -> None:
    """A repeat that arrives while the first still runs waits for its result."""
    cache = OperationCache()
    release = asyncio.Event()
    runs = 0

    async def slow() -> int:
        nonlocal runs
        runs += 1
        await release.wait()
        return 42

    first = asyncio.ensure_future(cache.run("user", "op", "cmd", slow))
    second = asyncio.ensure_future(cache.run("user", "op", "cmd", slow))
    await asyncio.sleep(0)
    assert not first.done()
    assert not second.done()
    release.set()
    assert await asyncio.gather(first, second) == [42, 42]
    assert runs == 1


async def test_operation_cache_expires() -> None:
    """After the TTL the same key runs again."""
    cache = OperationCache(ttl=0.05)
    runs = 0

    async def action() -> int:
        nonlocal runs
        runs += 1
        return runs

    assert await cache.run("user", "op", "cmd", action) == 1
    assert await cache.run("user", "op", "cmd", action) == 1
    await asyncio.sleep(0.1)
    assert await cache.run("user", "op", "cmd", action) == 2
    assert len(cache) == 1


async def test_operation_cache_is_bounded() -> None:
    """The oldest entries go first when the cache is full."""
    cache = OperationCache(size=3)
    runs: list[int] = []

    async def action(i: int) -> int:
        runs.append(i)
        return i

    for i in range(5):
        await cache.run("user", str(i), "cmd", lambda i=i: action(i))
    assert len(cache) == 3
    assert await cache.run("user", "4", "cmd", lambda: action(40)) == 4  # recent: remembered
    assert await cache.run("user", "0", "cmd", lambda: action(50)) == 50  # oldest: forgotten
    assert runs == [0, 1, 2, 3, 4, 50]
    assert len(cache) == 3


async def seven() -> int:
    """An operation that ends at once."""
    return 7


async def forever() -> int:
    """An operation that never ends (until cancelled)."""
    await asyncio.Event().wait()
    return 0


async def run_forever(cache: OperationCache, key: tuple[str, str]) -> asyncio.Future[int]:
    """Start a never-ending operation under `key`; return it once it is running."""
    started = asyncio.Event()

    async def started_forever() -> int:
        started.set()
        return await forever()

    run = asyncio.ensure_future(cache.run(*key, "cmd", started_forever))
    await started.wait()
    return run


async def test_operation_cache_forgets_a_cancelled_operation() -> None:
    """A first run that was cancelled has no result: a later repeat runs instead of waiting."""
    cache = OperationCache()
    first = await run_forever(cache, ("user", "op"))
    waiting = asyncio.ensure_future(cache.run("user", "op", "cmd", seven))
    await asyncio.sleep(0)
    first.cancel()
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(asyncio.CancelledError):
            await first
        with pytest.raises(asyncio.CancelledError):
            await waiting  # it was waiting for the first: it ends with it, it does not hang
        assert len(cache) == 0
        assert await cache.run("user", "op", "cmd", seven) == 7


async def test_operation_cache_cancelled_after_eviction() -> None:
    """A cancelled run whose key was already pushed out by newer ones leaves the others alone."""
    cache = OperationCache(size=1)
    first = await run_forever(cache, ("user", "old"))
    assert await cache.run("user", "new", "cmd", seven) == 7  # evicts "old" while it still runs
    first.cancel()
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(asyncio.CancelledError):
            await first
    assert len(cache) == 1
    assert await cache.run("user", "new", "cmd", forever) == 7  # still remembered


# Behaviours added after review -----------------------------------------------------------------
