"""The coordinator: one timeline, every member kept on it. Runs in the event loop.

Start and seek are barriers: every member is paused and exact-sought to the position, and once
all are ready (or READY_TIMEOUT_SECONDS have passed) they all start at the same server instant
T0 = now + max(2 x max RTT, MIN_START_DELAY_SECONDS), never more than MAX_START_DELAY_SECONDS
away (a member's round trip cannot silence the room). A member not ready in time never holds
the room: it starts late, seeking to where the room is by then, and the next barriers do not
wait for it until it is ready again. While playing, each member's measured error against the
timeline goes to its controller every TICK_SECONDS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback

from ..listeners import Listeners
from ..models import Track
from .controller import common_error
from .entity_member import ENTITY_SEEK_ABOVE_SECONDS, ENTITY_SEEK_COOLDOWN_SECONDS
from .member import Member, MemberNotReady
from .timeline import Timeline, TimelineState, server_time

_LOGGER = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0
# mpv members need the lead-in's notice ahead (sync/leadin.py: 0.5 s of silence, the output's
# buffer, a margin to land early: about 0.9 s); Snapcast's clients buffer 1 s.
MIN_START_DELAY_SECONDS = 1.0
MAX_START_DELAY_SECONDS = 1.3  # whatever the members' round trips: a late one starts by itself
TICK_SECONDS = 0.25


@dataclass(slots=True)
class Barrier:
    """The last start or seek barrier: whom it waited for, who was ready, when all started."""

    generation: int
    asked: float  # server time the barrier began
    waited: frozenset[str]  # the members it waited for (up to READY_TIMEOUT_SECONDS)
    skipped: frozenset[str]  # late at an earlier barrier and not ready since: not waited for
    ready: frozenset[str] = frozenset()
    late: frozenset[str] = frozenset()  # waited for in vain: they start late by themselves
    decided: float | None = None  # server time the wait ended and T0 was chosen
    start: float | None = None  # T0 (None: a paused barrier, or one overtaken by another)
    rtts: dict[str, float] = field(default_factory=dict)  # the round trips T0 counted

    @property
    def delay(self) -> float | None:
        """Return how long after the wait the members start (T0 minus that moment)."""
        if self.start is None or self.decided is None:
            return None
        return self.start - self.decided

    def as_dict(self) -> dict[str, Any]:
        """Return the barrier for diagnostics."""
        return {
            "generation": self.generation,
            "waited": sorted(self.waited),
            "skipped": sorted(self.skipped),
            "ready": sorted(self.ready),
            "late": sorted(self.late),
            "delay_ms": None if (delay := self.delay) is None else round(delay * 1000, 3),
        }


class Coordinator:
    """Holds the room's timeline and its members, and keeps them together."""

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        """Initialize the coordinator."""
        self._hass = hass
        self._name = name
        self.members: dict[str, Member] = {}
        self.timeline = Timeline()
        self.track: Track | None = None
        self.volume = 0.5
        self.muted = False
        self._generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._realigning: set[str] = set()
        self._late: set[str] = set()  # missed a barrier and not ready since
        self.barrier: Barrier | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._listeners = Listeners[[]]()
        # (path, error): a member could not decode the room's track (RoomOutput skips it).
        self.failed_listeners = Listeners[[str, str]]()
        self._closed = False

    # Listeners and tasks -----------------------------------------------------------------

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` when the timeline or the membership changes."""
        return self._listeners.add(listener)

    @callback
    def notify(self) -> None:
        """Tell the listeners something changed (also a member's connection)."""
        self._listeners.notify()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self._hass.async_create_background_task(coro, f"{self._name} sync", eager_start=True)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Membership -----------------------------------------------------------------

    async def async_add(self, member: Member) -> None:
        """Open a member and bring it onto the timeline; raise MemberNotReady if it cannot open."""
        await member.async_open()
        member.on_failed = self._member_failed
        if (own := member.own_volume()) is not None:
            # Room volume works as an offset: a speaker louder than the room stays louder.
            member.volume_offset = own - self.volume
        self.members[member.member_id] = member
        await self._guard(member, member.async_set_volume(self._volume_of(member), self.muted))
        self.connected(member)

    async def async_remove(self, member_id: str) -> None:
        """Stop a member and release it."""
        if (member := self.members.pop(member_id, None)) is None:
            return
        self._late.discard(member_id)
        self.notify()
        await self._guard(member, member.async_stop())
        await member.async_close()

    @callback
    def _member_failed(self, path: str, error: str) -> None:
        """Every member would fail alike on a file that cannot be decoded: the room skips it."""
        if self.track is not None and self.track.path == path:
            self.failed_listeners.notify(path, error)

    @callback
    def connected(self, member: Member) -> None:
        """Bring a new or returning member onto the timeline."""
        member.generation = self.timeline.generation
        # A self-joining member got the room state on joining: it prepares and starts itself.
        playing = self.track is not None and self.timeline.state is not TimelineState.IDLE
        if playing and not member.self_joining:
            self._spawn(self._async_catch_up(member, self.timeline.generation))
        self.notify()

    async def _async_catch_up(self, member: Member, generation: int) -> None:
        """Prepare a newcomer at the room's position and start it late if the room plays."""
        track, timeline = self.track, self.timeline
        if track is None:
            return
        position = timeline.position_at(server_time() + READY_TIMEOUT_SECONDS / 4)
        if not await self._prepare(member, generation, track, position + member.offset):
            return
        if self.timeline.generation == generation and self.timeline.state is TimelineState.PLAYING:
            await self._guard(
                member, member.async_start(generation, self.timeline.shifted(member.offset))
            )

    async def _guard(self, member: Member, action: Coroutine[Any, Any, None]) -> bool:
        """Run a member's action; a member failing never stops the room."""
        try:
            await action
        except MemberNotReady as err:
            _LOGGER.debug("%s: member %s not ready: %s", self._name, member.name, err)
            return False
        return True

    async def _prepare(
        self, member: Member, generation: int, track: Track, position: float
    ) -> bool:
        return await self._guard(member, member.async_prepare(generation, track, position))

    # Commands (the room's output calls these, one at a time) ---------------------------

    def _next_generation(self) -> int:
        self._generation += 1
        return self._generation

    async def async_load(self, track: Track, position: float, paused: bool) -> None:
        """Barrier: every member ready at `position` of `track`, then all start together."""
        generation = self._next_generation()
        self.track = track
        self._set_timeline(
            Timeline(generation, TimelineState.PAUSED, track.id, position, server_time())
        )
        tasks = {
            self._spawn(self._prepare(member, generation, track, position + member.offset)): member
            for member in self.members.values()
        }
        waited = {task: m for task, m in tasks.items() if m.member_id not in self._late}
        barrier = self.barrier = Barrier(
            generation,
            server_time(),
            waited=frozenset(m.member_id for m in waited.values()),
            skipped=frozenset(m.member_id for t, m in tasks.items() if t not in waited),
        )
        for task, member in tasks.items():
            if task not in waited:
                task.add_done_callback(partial(self._late_ready, member, generation))
        if waited:
            _, pending = await asyncio.wait(waited, timeout=READY_TIMEOUT_SECONDS)
            for task in pending:
                member = tasks[task]
                _LOGGER.debug("%s: %s is late, starting without it", self._name, member.name)
                self._late.add(member.member_id)
                task.add_done_callback(partial(self._late_ready, member, generation))
            barrier.late = frozenset(tasks[task].member_id for task in pending)
        # Skipped members that happened to be ready in time start with the others.
        ready = [
            member
            for task, member in tasks.items()
            if task.done() and not task.cancelled() and task.result()
        ]
        barrier.ready = frozenset(member.member_id for member in ready)
        if paused or generation != self._generation or self._closed:
            return  # (closed: the room unloaded during the barrier; its members are gone)
        barrier.rtts = {member.member_id: member.rtt for member in ready}
        delay = max(2 * max(barrier.rtts.values(), default=0.0), MIN_START_DELAY_SECONDS)
        barrier.decided = server_time()
        start = barrier.start = barrier.decided + min(delay, MAX_START_DELAY_SECONDS)
        self._set_timeline(Timeline(generation, TimelineState.PLAYING, track.id, position, start))
        for member in ready:
            self._spawn(
                self._guard(
                    member, member.async_start(generation, self.timeline.shifted(member.offset))
                )
            )
        # Return at T0: the player's position anchor then matches what is heard.
        await asyncio.sleep(max(0.0, start - server_time()))

    @callback
    def _late_ready(self, member: Member, generation: int, task: asyncio.Task[bool]) -> None:
        if task.cancelled() or not task.result():
            return
        self._late.discard(member.member_id)  # ready again: the next barriers wait for it
        if generation != self._generation:
            return
        if self.timeline.state is TimelineState.PLAYING and member.member_id in self.members:
            self._spawn(
                self._guard(
                    member, member.async_start(generation, self.timeline.shifted(member.offset))
                )
            )

    async def async_seek(self, position: float) -> None:
        """Barrier at a new position of the current track."""
        if self.track is not None:
            paused = self.timeline.state is not TimelineState.PLAYING
            await self.async_load(self.track, position, paused)

    async def async_play(self) -> None:
        """Resume from the paused position, with a barrier."""
        if self.track is not None and self.timeline.state is TimelineState.PAUSED:
            await self.async_load(self.track, self.timeline.position, paused=False)

    async def async_pause(self) -> None:
        """Pause everyone at the same position."""
        if self.track is None or self.timeline.state is not TimelineState.PLAYING:
            return
        generation = self._next_generation()
        position = max(0.0, self.timeline.position_at(server_time()))
        self._set_timeline(
            Timeline(generation, TimelineState.PAUSED, self.track.id, position, server_time())
        )
        await asyncio.gather(
            *(
                self._guard(member, member.async_pause(generation, position + member.offset))
                for member in self.members.values()
            )
        )

    async def async_stop(self) -> None:
        """Stop everyone; the room is idle."""
        self._next_generation()
        self.track = None
        self._set_timeline(Timeline(self._generation))
        await asyncio.gather(
            *(self._guard(member, member.async_stop()) for member in self.members.values())
        )

    async def async_set_volume(self, volume: float, muted: bool) -> None:
        """Apply the room volume to every member (plus each member's own volume offset)."""
        self.volume, self.muted = volume, muted
        await asyncio.gather(
            *(
                self._guard(member, member.async_set_volume(self._volume_of(member), muted))
                for member in self.members.values()
            )
        )

    def _volume_of(self, member: Member) -> float:
        return max(0.0, min(1.0, self.volume + member.volume_offset))

    def position(self) -> float:
        """Return where the room is now."""
        return self.timeline.position_at(server_time())

    async def async_close(self) -> None:
        """Stop the corrections and release every member."""
        self._closed = True
        self._cancel_tick()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # none outlives the unload
        for member in list(self.members.values()):
            await member.async_close()
        self.members.clear()

    # Corrections -----------------------------------------------------------------

    @callback
    def _set_timeline(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._cancel_tick()
        if timeline.state is TimelineState.PLAYING and not self._closed:
            self._tick = self._hass.loop.call_later(TICK_SECONDS, self._on_tick)
        self.notify()

    def _cancel_tick(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    @callback
    def _on_tick(self) -> None:
        self._tick = self._hass.loop.call_later(TICK_SECONDS, self._on_tick)
        now = server_time()
        if now < self.timeline.server_time:
            return  # not started yet
        measured: dict[Member, float] = {}
        for member in list(self.members.values()):
            if member.member_id in self._realigning:
                continue
            if (found := member.measure(now)) is None:
                continue
            at, position = found
            error = position - self.timeline.shifted(member.offset).position_at(at)
            member.errors.append((at, error, member.controller.speed))
            measured[member] = error
        # What is heard is the offset between members: each is corrected against the room.
        common = common_error(e for m, e in measured.items() if m.precise)
        for member, error in measured.items():
            self._correct(member, error, common, now)

    @callback
    def _correct(self, member: Member, error: float, common: float, now: float) -> None:
        if not member.precise:
            if (
                abs(error) > ENTITY_SEEK_ABOVE_SECONDS
                and now - member.last_seek > ENTITY_SEEK_COOLDOWN_SECONDS
            ):
                self._realign(member)
            return
        correction = member.controller.decide(error - common, now)
        if correction.seek:
            self._realign(member)
        elif correction.speed is not None:
            self._spawn(self._guard(member, member.async_set_speed(correction.speed)))

    @callback
    def _realign(self, member: Member) -> None:
        """Seek a member back onto the timeline (it starts late, at where the room will be)."""
        generation = self.timeline.generation
        self._realigning.add(member.member_id)

        async def realign() -> None:
            try:
                await self._guard(
                    member, member.async_start(generation, self.timeline.shifted(member.offset))
                )
            finally:
                self._realigning.discard(member.member_id)

        self._spawn(realign())

    def diagnostics(self) -> dict[str, Any]:
        """Return the timeline and the members."""
        return {
            "timeline": self.timeline.as_dict(),
            "members": [member.diagnostics() for member in self.members.values()],
            "barrier": None if self.barrier is None else self.barrier.as_dict(),
        }
